"""The buffered Lambda: REST API and dashboard page, served through Mangum."""

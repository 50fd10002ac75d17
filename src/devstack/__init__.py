"""The local stack behind ``make run``: moto server, tables, demo data, both apps."""

"""One router per concern, mounted by :func:`dashboard.app.create_app`."""

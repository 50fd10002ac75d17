"""The streaming Lambda: a FastAPI app behind the Lambda Web Adapter (RESPONSE_STREAM)."""

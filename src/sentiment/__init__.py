"""Shared domain and storage for the two sentiment-dashboard Lambdas."""

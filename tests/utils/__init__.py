"""Factories and helpers shared by every test layer."""

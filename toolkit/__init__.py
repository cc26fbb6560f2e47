"""Stripe Sources toolkit."""

"""Cloudflare Email Security settings as Pulumi resources."""

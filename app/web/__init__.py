"""Blueprints: thin views that read input, call one domain function and render one template."""

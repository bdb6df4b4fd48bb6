"""Centra Checkout API sandbox: an emulator of Centra's Checkout API over HTTP.

It imports nothing from the BFF. Start it with ``python -m sandbox --port 8001``.
"""

"""Audio as every layer sees it: formats (encoding, rate, 20 ms frames) and levels (dBFS).

The engine, the providers and the transports all import from here; conversion between formats
lives at the edge, in `telephony/audio.py`.
"""

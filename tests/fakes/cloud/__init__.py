"""Local stand-ins for cloud speech and language services, speaking their real wire formats.

Each is a real server on 127.0.0.1 (a free port, in a background thread) that a real client
or SDK reaches through its base URL. Tests script what it answers and read what it was sent.
"""

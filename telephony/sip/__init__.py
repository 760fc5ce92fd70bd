"""SIP trunks: a sans-I/O SIP user agent and RTP media, over UDP and TCP."""

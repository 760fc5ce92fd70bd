"""Rate limits and quotas: how often a tenant may ask (REST, conversation sockets, carrier
webhooks) and how many calls it may hold at once."""

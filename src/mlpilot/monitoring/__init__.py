"""Operate: the buffered inference-log sink, traffic and latency metrics per service, and their pages."""

"""voicebot: rehearse 10086 outbound calls by voice against the book of standard answers (口径), offline."""

__version__ = "0.1.0"

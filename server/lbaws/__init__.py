"""The servers of "Let's Build A Web Server", one stage at a time, on shared correct HTTP and WSGI code."""

__version__ = "0.1.0"

"""A client library for accessing Volcengine Ark batch inference job API"""

from .client import AuthenticatedClient, Client

__all__ = (
    "AuthenticatedClient",
    "Client",
)

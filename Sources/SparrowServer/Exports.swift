// The server's product carries the Hub client: `HubModelBackend` serves models by Hub id, and its
// configuration and errors are HubClient's types.
@_exported import HubClient

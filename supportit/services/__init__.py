"""The domain. Web pages, the API, mail intake, the CLI and the monitors call these functions;
none of them changes a ticket by itself."""

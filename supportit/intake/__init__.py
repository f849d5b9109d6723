"""Mail intake: a pure parser, the pipeline that turns mail into tickets, and thin servers."""

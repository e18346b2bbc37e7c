"""Chat that cites its sources: documents and fact sheets chunked, embedded, searched, answered with citations."""

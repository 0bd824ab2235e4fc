"""The public directory of certified providers and the access-gap report."""

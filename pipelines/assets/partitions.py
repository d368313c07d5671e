"""Each registry batch is one dynamic partition, keyed by its batch id."""

import dagster as dg

BATCHES = dg.DynamicPartitionsDefinition(name="batches")

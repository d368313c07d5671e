"""Seeded synthetic registry generator (issue 3): contract batches whose patients follow
clinically plausible journeys, with known effects and, on request, known defects.

Entry point: `pipelines.synthetic.batch.generate_batch`.
"""

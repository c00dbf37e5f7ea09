"""The worker's jobs: uploads, the job lifecycle, queueing, reconcile, parts, drop folder, sweeper."""

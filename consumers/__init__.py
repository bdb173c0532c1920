"""The S3 sink: batches, partitioned object keys, commit after upload, dead letters.

`SinkRun` (consumers/run.py) is the stage's facade.
"""

from consumers.run import SinkRun
from consumers.sink import SinkOptions

__all__ = ["SinkOptions", "SinkRun"]

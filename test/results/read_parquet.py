"""Independent Parquet reader for test/results/export.test.ts (pyarrow, not the writer's code).

Prints, as JSON: row and row-group counts, column names, and checksums of a few columns
(sums, a flip count, and sha256 of the cell keys joined by newlines in cell_id order).
"""
import hashlib
import json
import sys

import pyarrow.parquet as pq

path = sys.argv[1]
meta = pq.ParquetFile(path).metadata
table = pq.read_table(path)
ids = table.column("cell_id").to_pylist()
keys = table.column("cell_key").to_pylist()
ordered = [k for _, k in sorted(zip(ids, keys))]
print(json.dumps({
    "rows": table.num_rows,
    "row_groups": meta.num_row_groups,
    "columns": table.column_names,
    "types": {f.name: str(f.type) for f in table.schema},
    "sum_cell_id": sum(ids),
    "sum_step": sum(table.column("step").to_pylist()),
    "sum_position": sum(table.column("position").to_pylist()),
    "flipped": sum(1 for v in table.column("flipped").to_pylist() if v),
    "null_variant": table.column("variant").null_count,
    "keys_sha256": hashlib.sha256("\n".join(ordered).encode()).hexdigest(),
    "first": {k: v for k, v in table.slice(0, 1).to_pylist()[0].items()} if table.num_rows else None,
}, default=str))

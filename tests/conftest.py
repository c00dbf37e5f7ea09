import sys
from pathlib import Path

# tests import their helpers (hostile.py) as top-level modules
sys.path.insert(0, str(Path(__file__).parent))

#: receipts in the bundled sample (sample_receipts/README.md): October, and September
SAMPLE_OCTOBER_RECEIPTS = 327
SAMPLE_ALL_RECEIPTS = 368

# Parses Prometheus text exposition from stdin with the official Python client's parser and prints it as JSON:
# [{"name", "type", "help", "samples": [{"name", "labels", "value"}]}]. A malformed exposition is an exception.
import json
import sys

from prometheus_client.parser import text_string_to_metric_families

families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": f.name,
        "type": f.type,
        "help": f.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples],
    })
json.dump(families, sys.stdout)

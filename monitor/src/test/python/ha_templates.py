"""Renders Home Assistant MQTT value templates the way Home Assistant feeds them: the payload as `value` and, when it
is JSON, as `value_json` (homeassistant/helpers/template.py async_render_with_possible_json_value). Plain Jinja2,
without Home Assistant's extra filters: the templates axfleet publishes use none.

stdin: [{"template": "...", "payload": "..."}]; stdout: ["rendered", ...]
"""
import json
import sys

import jinja2

env = jinja2.Environment()
out = []
for case in json.load(sys.stdin):
    variables = {"value": case["payload"]}
    try:
        variables["value_json"] = json.loads(case["payload"])
    except ValueError:
        pass
    out.append(env.from_string(case["template"]).render(**variables).strip())
print(json.dumps(out))

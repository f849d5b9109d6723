"""A local server speaking the part of Jira's REST API (v2) that SupportIT uses, for tests.

Server info, create issue, get issue, search by label, comments, transitions; plus failure
modes: `fail_next` answers the next requests with the given statuses (401, 500...), `delay`
makes every answer late (a timeout for a short client timeout), `lose_create_answer` creates
the issue but drops the connection before answering (the retry must not create it twice).
"""

from __future__ import annotations

import json
import re
import threading
import time
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

USER, TOKEN = "supportit@floa.example", "jira-token-for-tests"


class JiraServer:
    def __init__(self, project: str = "ONB") -> None:
        self.project = project
        self.issues: dict[str, dict[str, Any]] = {}
        self.counter = 0
        self.fail_next: list[int] = []
        self.delay = 0.0
        self.lose_create_answer = False
        self.creates = 0
        self.lock = threading.Lock()
        self.server = make_server("127.0.0.1", 0, self, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def start(self) -> JiraServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()

    # --- what a person does in Jira ----------------------------------------------------------

    def comment(self, key: str, body: str, author: str = "Jean Dupont") -> dict[str, Any]:
        with self.lock:
            issue = self.issues[key]
            comment = {
                "id": str(10000 + len(issue["comments"]) + 1),
                "body": body,
                "author": {"displayName": author, "name": "jdupont"},
                "created": "2026-11-30T10:00:00.000+0100",
            }
            issue["comments"].append(comment)
            return comment

    def set_status(self, key: str, name: str) -> None:
        with self.lock:
            self.issues[key]["status"] = name

    # --- HTTP --------------------------------------------------------------------------------

    def __call__(self, environ, start_response):  # type: ignore[no-untyped-def]
        request = Request(environ)
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            status = self.fail_next.pop(0) if self.fail_next else None
        if status is not None:
            return Response(
                json.dumps({"errorMessages": [f"failing with {status}"]}),
                status=status,
                mimetype="application/json",
            )(environ, start_response)
        if request.authorization is None or (
            request.authorization.username,
            request.authorization.password,
        ) != (USER, TOKEN):
            return Response(
                json.dumps({"errorMessages": ["unauthorized"]}),
                status=401,
                mimetype="application/json",
            )(environ, start_response)
        return self._route(request)(environ, start_response)

    def _json(self, data: Any, status: int = 200) -> Response:
        return Response(json.dumps(data), status=status, mimetype="application/json")

    def _route(self, request: Request) -> Response:
        path = request.path.rstrip("/")
        if path.endswith("/serverInfo"):
            return self._json(
                {
                    "baseUrl": self.url,
                    "version": "9.12.0",
                    "versionNumbers": [9, 12, 0],
                    "deploymentType": "Server",
                    "serverTitle": "Jira (tests)",
                }
            )
        if path == "/rest/api/2/field":
            return self._json([])
        if path == "/rest/api/2/issue" and request.method == "POST":
            return self._create(request)
        if path == "/rest/api/2/search":
            return self._search(request)
        match = re.fullmatch(r"/rest/api/2/issue/([A-Z]+-\d+)(/comment|/transitions)?", path)
        if match:
            key, sub = match.groups()
            if key not in self.issues:
                return self._json({"errorMessages": ["Issue does not exist"]}, 404)
            if sub == "/comment":
                if request.method == "POST":
                    body = (request.get_json(silent=True) or {}).get("body", "")
                    return self._json(self.comment(key, body, "SupportIT"), 201)
                comments = self.issues[key]["comments"]
                return self._json(
                    {
                        "comments": comments,
                        "total": len(comments),
                        "startAt": 0,
                        "maxResults": len(comments),
                    }
                )
            if sub == "/transitions":
                if request.method == "POST":
                    target = (request.get_json(silent=True) or {}).get("transition", {}).get("id")
                    self.set_status(key, {"21": "In Progress", "31": "Done"}.get(target, "Open"))
                    return Response(status=204)
                return self._json(
                    {
                        "transitions": [
                            {"id": "21", "name": "In Progress"},
                            {"id": "31", "name": "Done"},
                        ]
                    }
                )
            return self._json(self._issue_json(key))
        return self._json({"errorMessages": [f"no route {request.method} {path}"]}, 404)

    def _create(self, request: Request) -> Response:
        fields = (request.get_json(silent=True) or {}).get("fields", {})
        if not fields.get("summary"):
            return self._json({"errors": {"summary": "You must specify a summary."}}, 400)
        with self.lock:
            self.counter += 1
            self.creates += 1
            key = f"{fields.get('project', {}).get('key', self.project)}-{self.counter}"
            self.issues[key] = {
                "fields": fields,
                "comments": [],
                "status": "Open",
                "id": str(20000 + self.counter),
            }
            lose = self.lose_create_answer
            self.lose_create_answer = False
        if lose:
            raise ConnectionAbortedError("the answer is lost on the way back")
        return self._json(
            {
                "id": self.issues[key]["id"],
                "key": key,
                "self": f"{self.url}/rest/api/2/issue/{key}",
            },
            201,
        )

    def _issue_json(self, key: str) -> dict[str, Any]:
        issue = self.issues[key]
        fields = dict(issue["fields"])
        fields["status"] = {"name": issue["status"]}
        fields["comment"] = {"comments": issue["comments"], "total": len(issue["comments"])}
        return {
            "id": issue["id"],
            "key": key,
            "self": f"{self.url}/rest/api/2/issue/{key}",
            "fields": fields,
        }

    def _search(self, request: Request) -> Response:
        jql = request.args.get("jql", "")
        label = re.search(r'labels\s*=\s*"?([\w.-]+)"?', jql)
        found = [
            self._issue_json(key)
            for key, issue in self.issues.items()
            if label and label.group(1) in issue["fields"].get("labels", [])
        ]
        return self._json({"issues": found, "total": len(found), "startAt": 0, "maxResults": 50})

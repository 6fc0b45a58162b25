"""The observation item: the one thing a spider yields.

It is a plain ``dict`` (JSON-serialisable), so it can cross a process or a Redis queue, and it
maps one-to-one onto ``storage.records.Observation``::

    {
      "org_id": "nursegroups",          # organisation id from the directory
      "link_id": 12,                    # listed-link id in the store, or None for ad-hoc URLs
      "role": "homepage",               # homepage | groups | link
      "url": "http://nursegroups.test/",  # the listed URL, as the curator wrote it
      "fetched_at": "2026-11-23T10:00:00+00:00",
      "status": 200,                    # final HTTP status, or None when no response came
      "final_url": "https://nursegroups.test/",   # after every redirect
      "redirect_chain": [               # every hop before the final response, in order
          {"url": "http://nursegroups.test/", "status": 301,
           "location": "https://nursegroups.test/"}
      ],
      "error": None,                    # None | dns | connection | timeout | tls
                                        #      | redirect_loop | too_many_redirects | other
      "error_message": None,            # the exception text, for evidence
      "elapsed_ms": 120,
      "headers": {"content-type": "text/html; charset=utf-8", "server": "nginx",
                  "retry-after": None, "etag": "...", "last-modified": "..."},
      "facts": {                        # parsed once, only what judgement needs
          "content_type": "text/html",
          "size": 5120,                 # bytes received (after truncation)
          "truncated": False,           # the size cap cut the body
          "binary": False,              # not text: no parsing was attempted
          "encoding": "utf-8",
          "not_modified": False,        # a conditional request got 304: nothing changed
          "robots_disallowed": False,   # robots.txt forbids this URL: it was not fetched
          "title": "NurseGroups | Peer support for nurses",
          "h1": ["Welcome"],            # text of the first few h1 elements
          "text": "...",                # visible text, whitespace-collapsed, capped
          "meta_refresh": None,         # target URL of a <meta http-equiv=refresh>, if any
          "probe": {                    # soft-404 probe: a random path in the same directory
              "url": "http://nursegroups.test/groups/zq8x1k3v0r",
              "status": 404, "final_url": "...", "title": "...", "text": "...",
              "error": None, "redirect_chain": [...]
          }                             # or None when no probe was made
      }
    }

Later detectors add their own keys to ``facts`` (identity, groups, outbound links); readers
must ignore keys they do not know.
"""

from __future__ import annotations

ERROR_KINDS = (
    "dns",
    "connection",
    "timeout",
    "tls",
    "redirect_loop",
    "too_many_redirects",
    "other",
)

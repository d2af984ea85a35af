"""bindmgr: plan, check and apply MDaemon's multi-IP binding.

The package root only names the version; everything else lives in the modules listed in
docs/architecture.md.
"""

__version__ = "0.2.0"

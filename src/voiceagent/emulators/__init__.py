"""Local servers speaking each vendor's real wire protocol, so cloud paths are tested without the cloud."""

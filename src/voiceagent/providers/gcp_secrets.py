"""Google Secret Manager through its official client on the REST transport: the latest version of a secret."""

from __future__ import annotations

import google_crc32c
from google.api_core import exceptions as google_errors
from google.auth.credentials import AnonymousCredentials
from google.cloud import secretmanager

from voiceagent.secrets import SecretDenied, SecretMissing, SecretUnavailable


class GcpSecretSource:
    """Reads `projects/{project}/secrets/{id}/versions/latest`; on Google Cloud as the VM's service account."""

    def __init__(self, project: str, endpoint: str | None = None, timeout_secs: float = 10.0):
        self.project = project
        self._timeout = timeout_secs
        options = {"api_endpoint": endpoint} if endpoint else None
        # An emulator takes no credentials; on Google Cloud the library finds the VM's service account itself.
        credentials = AnonymousCredentials() if endpoint else None
        self._client = secretmanager.SecretManagerServiceClient(
            transport="rest", client_options=options, credentials=credentials)

    @classmethod
    def for_settings(cls, backend) -> GcpSecretSource:
        """From the SECRETS_* / GCP_* settings (voiceagent.secrets.BackendSettings)."""
        return cls(backend.gcp_project, backend.gcp_secrets_endpoint)

    def read(self, secret_id: str) -> str:
        name = self._client.secret_version_path(self.project, secret_id, "latest")
        try:
            response = self._client.access_secret_version(name=name, timeout=self._timeout)
        except google_errors.NotFound:
            raise SecretMissing(f"secret '{secret_id}' does not exist in project {self.project} or has no "
                                f"version (gcloud secrets create {secret_id} --data-file=-)") from None
        except (google_errors.PermissionDenied, google_errors.Forbidden):  # REST maps 403 to Forbidden
            raise SecretDenied(f"reading secret '{secret_id}' was denied: grant the service account "
                               "roles/secretmanager.secretAccessor on it") from None
        except (google_errors.GoogleAPICallError, google_errors.RetryError, OSError) as error:
            raise SecretUnavailable(f"Secret Manager did not answer for '{secret_id}' ({type(error).__name__})") from None
        payload = response.payload
        # The service sends a checksum of the payload; a corrupted value must not become a key.
        if "data_crc32c" in payload and google_crc32c.value(payload.data) != payload.data_crc32c:
            raise SecretUnavailable(f"secret '{secret_id}' arrived corrupted (CRC32C mismatch)")
        try:
            return payload.data.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise SecretUnavailable(f"secret '{secret_id}' is not UTF-8 text") from None

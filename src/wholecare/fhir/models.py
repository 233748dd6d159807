"""The FHIR edge's own tables: resource identity and versions, search tokens, API clients, tokens.

Record-backed resources (Patient, Condition, ...) live in the record's and directory's models; here
they get a stable FHIR id and a version history. Resources the record has no model for yet
(Observation, QuestionnaireResponse, Encounter, EpisodeOfCare, Appointment, CarePlan,
MedicationStatement, MedicationRequest, AllergyIntolerance) are kept here whole, tied to the person
and access-checked the same way (decision 0006).
"""

from django.db import models

from wholecare.directory.models import Staff
from wholecare.record.models import Person
from wholecare.record.vocabulary import Sensitivity


class Resource(models.Model):
    """The current version of one FHIR resource."""

    resource_type = models.CharField(max_length=40)
    fhir_id = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    person = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="fhir_resources"
    )
    record_pk = models.BigIntegerField(null=True, blank=True)
    """The row in the record's own table, for record-backed resource types."""
    sensitivity = models.CharField(
        max_length=30,
        choices=[(s.value, s.label) for s in Sensitivity],
        default=Sensitivity.NORMAL,
    )
    author = models.ForeignKey(
        Staff, on_delete=models.PROTECT, null=True, blank=True, related_name="fhir_resources"
    )
    status = models.CharField(max_length=40, blank=True)
    date_start = models.DateTimeField(null=True, blank=True)
    date_end = models.DateTimeField(null=True, blank=True)
    content = models.JSONField()
    """The resource without `meta.versionId` and `meta.lastUpdated`."""

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource_type", "fhir_id"], name="fhir_id_unique"),
            models.UniqueConstraint(
                fields=["resource_type", "record_pk"], name="fhir_record_row_once"
            ),
        ]
        indexes = [
            models.Index(fields=["resource_type", "person"]),
            models.Index(fields=["resource_type", "last_updated"]),
        ]

    def __str__(self) -> str:
        return f"{self.resource_type}/{self.fhir_id}/_history/{self.version}"


class ResourceVersion(models.Model):
    """Every version of every resource, kept."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    last_updated = models.DateTimeField()
    method = models.CharField(max_length=6)
    content = models.JSONField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["resource", "version"], name="fhir_version_once")
        ]
        indexes = [models.Index(fields=["last_updated"])]

    def __str__(self) -> str:
        return f"{self.resource}@{self.version}"


class SearchToken(models.Model):
    """A token (code or identifier) a resource kept here can be found by."""

    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="tokens")
    param = models.CharField(max_length=40)
    system = models.CharField(max_length=200, blank=True)
    value = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["param", "value"])]

    def __str__(self) -> str:
        return f"{self.param}={self.system}|{self.value}"


class ApiClient(models.Model):
    """A registered OAuth2 client. It acts as one member of staff (a person, or a service
    account for a back-end system) and may be granted at most its allowed SMART scopes."""

    client_id = models.CharField(max_length=64, unique=True)
    secret_hash = models.CharField(max_length=200)
    name = models.CharField(max_length=200)
    staff = models.ForeignKey(Staff, on_delete=models.PROTECT, related_name="api_clients")
    allowed_scopes = models.CharField(max_length=1000)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    redirect_uris = models.TextField(blank=True)
    """For the SMART App Launch (authorization code) flow: the exact redirect URIs, one a line."""
    public = models.BooleanField(default=False)
    """A public client (an app that cannot keep a secret) has no secret and relies on PKCE; it
    cannot use the client credentials grant."""

    def __str__(self) -> str:
        return self.name

    @property
    def redirect_uri_list(self) -> list[str]:
        return self.redirect_uris.split()


class AccessToken(models.Model):
    """A bearer token, stored as its SHA-256 digest."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="tokens")
    scope = models.CharField(max_length=1000)
    patient = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)
    staff = models.ForeignKey(
        Staff, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    """The signed-in member of staff who authorised the app (authorization code grant); empty for
    the client credentials grant, whose tokens act as the client's own member of staff."""
    family = models.UUIDField(null=True, blank=True, db_index=True)
    """The authorisation it descends from, so that a replayed code or refresh token revokes all."""

    def __str__(self) -> str:
        return f"token for {self.client} until {self.expires_at:%Y-%m-%d %H:%M}"


class AuthorizationCode(models.Model):
    """A SMART App Launch authorization code, stored as its SHA-256 digest: single use, short
    lived, bound to its client, redirect URI and PKCE challenge."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    redirect_uri = models.CharField(max_length=2000)
    scope = models.CharField(max_length=1000)
    patient = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    code_challenge = models.CharField(max_length=128)
    """BASE64URL(SHA-256(code_verifier)): only S256 is accepted."""
    family = models.UUIDField(unique=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"code for {self.client} ({'used' if self.used_at else 'unused'})"


class RefreshToken(models.Model):
    """A refresh token, stored as its SHA-256 digest. Each use rotates it; using one twice revokes
    its whole family (RFC 9700 section 4.14)."""

    digest = models.CharField(max_length=64, unique=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="+")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=1000)
    patient = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    family = models.UUIDField(db_index=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"refresh token for {self.client} until {self.expires_at:%Y-%m-%d %H:%M}"


class ImportedId(models.Model):
    """What each imported resource became on this server, by the id it had where it came from
    (`resource_type` and `source_id`), or by its Bundle `fullUrl` (`resource_type` empty), so that
    references between imported resources resolve, in this import or a later one."""

    resource_type = models.CharField(max_length=40, blank=True)
    source_id = models.CharField(max_length=300)
    target = models.CharField(max_length=110)
    """`Type/id` on this server."""

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["resource_type", "source_id"], name="fhir_imported_id_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.resource_type or 'fullUrl'} {self.source_id} -> {self.target}"


class ImportFile(models.Model):
    """How far bulk import has got through one file, known by the SHA-256 of its content, so a
    rerun skips what was loaded (each step is committed with the resources it loaded)."""

    digest = models.CharField(max_length=64, unique=True)
    path = models.CharField(max_length=1000)
    done = models.PositiveIntegerField(default=0)
    """Lines (NDJSON) or Bundle entries read so far; for other files 1 when read."""
    loaded = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    finished = models.BooleanField(default=False)
    started_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.path}: {self.done} read{' (finished)' if self.finished else ''}"


class ExportJob(models.Model):
    """One `$export` request (FHIR Bulk Data Access): kept in the database so that it survives a
    restart; a worker thread (or `wholecare fhir export-worker`) runs queued jobs."""

    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        COMPLETE = "complete"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True)
    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="export_jobs")
    staff = models.ForeignKey(Staff, on_delete=models.CASCADE, related_name="+")
    """The member of staff the requesting token acted as (for an app a person approved, that
    person, not the client's owner): the job reads as them, and only they may fetch it."""
    scope = models.CharField(max_length=1000)
    """The requesting token's scopes: the job may read what they allowed."""
    patient = models.ForeignKey(
        Person, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    level = models.CharField(max_length=10)
    """`system`, `patient` or `group`."""
    group = models.CharField(max_length=64, blank=True)
    """For a Group-level export, the Group's id (`caseload-<service id>`)."""
    patients = models.JSONField(default=list)
    """Keys of the people a POST kick-off's `patient` parameters named: the export is held to
    them (empty: not held)."""
    type_filters = models.JSONField(default=dict)
    """`_typeFilter`: resource type -> its search queries (alternatives), as query strings."""
    types = models.CharField(max_length=1000)
    """The resource types to export, comma-separated."""
    since = models.DateTimeField(null=True, blank=True)
    request_url = models.CharField(max_length=2000)
    base = models.CharField(max_length=500)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.CharField(max_length=200, blank=True)
    output = models.JSONField(default=list)
    """[{"type", "count"}] for each file written; errors under type OperationOutcome."""
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    """Moved on as the job works, so a job left running by a stopped process can be told."""
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"$export {self.id} ({self.status})"


class TokenRefusal(models.Model):
    """A request the token or revocation endpoint refused, kept (the address only as a keyed
    hash) to slow down whoever keeps being refused: guessing a client secret, or making the
    server check secrets over and over. Kept only while it counts: an address's older ones go
    when it is next refused."""

    client_id = models.CharField(max_length=64)
    address_hash = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["address_hash", "at"])]

    def __str__(self) -> str:
        return f"token refused for {self.client_id!r} at {self.at:%Y-%m-%d %H:%M}"

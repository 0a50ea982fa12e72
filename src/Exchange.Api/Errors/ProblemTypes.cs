namespace Exchange.Api.Errors;

/// <summary>
/// Every rejection the service gives, with its stable code, in one table. The code is the
/// last segment of the problem <c>type</c> URI; integrators and tests match on it.
/// </summary>
public static class ProblemTypes
{
    public const string BaseUri = "https://exchange.example/problems/";

    public sealed record ProblemType(string Code, int Status, string Title)
    {
        public string Uri => BaseUri + Code;
    }

    private static readonly List<ProblemType> All = [];

    private static ProblemType Define(string code, int status, string title)
    {
        var type = new ProblemType(code, status, title);
        All.Add(type);
        return type;
    }

    // Request shape and transport
    public static readonly ProblemType ValidationFailed = Define("validation-failed", 400, "The request is not valid.");
    public static readonly ProblemType MalformedJson = Define("malformed-json", 400, "The request body is not valid JSON for this operation.");
    public static readonly ProblemType MalformedRequest = Define("malformed-request", 400, "The request could not be read.");
    public static readonly ProblemType HeaderEncoding = Define("header-encoding", 400, "A request header value is not valid UTF-8.");
    public static readonly ProblemType PayloadTooLarge = Define("payload-too-large", 413, "The request body is too large.");
    public static readonly ProblemType UnsupportedMediaType = Define("unsupported-media-type", 415, "The request body must be application/json.");
    public static readonly ProblemType NotFound = Define("not-found", 404, "There is nothing at this address.");
    public static readonly ProblemType MethodNotAllowed = Define("method-not-allowed", 405, "This address does not accept that method.");
    public static readonly ProblemType RateLimited = Define("rate-limited", 429, "Too many requests.");
    public static readonly ProblemType InternalError = Define("internal-error", 500, "The service failed to handle the request.");
    public static readonly ProblemType ServiceUnavailable = Define("service-unavailable", 503, "The service cannot handle the request now.");
    public static readonly ProblemType KeyProviderUnavailable = Define("key-provider-unavailable", 503, "The key service is unavailable; nothing was changed. Retry later.");
    public static readonly ProblemType AuditUnavailable = Define("audit-unavailable", 503, "The audit log could not record this request, so it was not carried out. Retry later.");
    public static readonly ProblemType SealedValueIntegrity = Define("sealed-value-integrity", 500, "Stored protected data failed its integrity check; the request was stopped and the event recorded.");

    // Sign-in and purpose
    public static readonly ProblemType Unauthenticated = Define("unauthenticated", 401, "A valid bearer token is required.");
    public static readonly ProblemType Forbidden = Define("forbidden", 403, "The caller's role does not allow this operation.");
    public static readonly ProblemType OrganisationNotActive = Define("organisation-not-active", 403, "The caller's organisation is not registered or has been deactivated.");
    public static readonly ProblemType RoleNotForOrganisation = Define("role-not-for-organisation", 403, "A role in the token does not belong to the caller's kind of organisation.");
    public static readonly ProblemType TokenClaimsInvalid = Define("token-claims-invalid", 403, "The token lacks a subject (sub) claim.");
    public static readonly ProblemType PurposeOfUseMissing = Define("purpose-of-use-missing", 400, "The X-Purpose-Of-Use header is required.");
    public static readonly ProblemType PurposeOfUseUnknown = Define("purpose-of-use-unknown", 400, "The X-Purpose-Of-Use header names an unknown purpose.");

    // Identifiers
    public static readonly ProblemType IdentifiersRequired = Define("identifiers-required", 400, "At least one identifier is required.");
    public static readonly ProblemType NhsNumberFormat = Define("nhs-number-format", 400, "The NHS number is not ten digits.");
    public static readonly ProblemType NhsNumberInvalid = Define("nhs-number-invalid", 400, "The NHS number fails its Modulus 11 check.");
    public static readonly ProblemType UpnPlaceholder = Define("upn-placeholder", 400, "A UPN placeholder is not a UPN.");
    public static readonly ProblemType UpnFormat = Define("upn-format", 400, "The UPN does not have the UPN format.");
    public static readonly ProblemType UpnCheckLetter = Define("upn-check-letter", 400, "The UPN check letter does not match.");
    public static readonly ProblemType LaNumberFormat = Define("la-number-format", 400, "The LA number is not three digits.");
    public static readonly ProblemType LaNumberUnknown = Define("la-number-unknown", 400, "The LA number is not a registered council.");
    public static readonly ProblemType LaChildIdFormat = Define("la-child-id-format", 400, "The council child ID is empty, too long or has unsupported characters.");
    public static readonly ProblemType LaChildIdNotOwn = Define("la-child-id-not-own", 403, "A council may only give child IDs under its own LA number.");
    public static readonly ProblemType CareEpisodeStartDate = Define("care-episode-start-date", 400, "The care episode needs a start date that is not in the future.");

    // Identity resolution
    public static readonly ProblemType ChildNotFound = Define("child-not-found", 404, "No registered child matches.");
    public static readonly ProblemType IdentityConflict = Define("identity-conflict", 409, "The identifiers point to different children; a review case has been opened.");
    public static readonly ProblemType ChildErased = Define("child-erased", 410, "The child's data has been erased.");
    public static readonly ProblemType CareEpisodeConflict = Define("care-episode-conflict", 409, "The child is already in the care of another council.");
    public static readonly ProblemType CareEpisodeOverlap = Define("care-episode-overlap", 400, "A care episode may not start before, or overlap, another council's care episode for the same child; start it after that care ended.");
    public static readonly ProblemType CallerNotCouncil = Define("caller-not-council", 403, "Only a council can register a child in its care.");
    public static readonly ProblemType ReviewNotFound = Define("review-not-found", 404, "There is no identity review with that id.");
    public static readonly ProblemType MergeEpisodeOverlap = Define("merge-episode-overlap", 409, "The candidates' care episodes at different councils overlap; the councils must correct their episodes before the children can be merged. The review stays open.");
    public static readonly ProblemType ReviewClosed = Define("review-closed", 409, "The identity review has already been closed.");
    public static readonly ProblemType MergeSurvivorInvalid = Define("merge-survivor-invalid", 400, "The survivor must be one of the review's children.");

    // Organisations
    public static readonly ProblemType OrganisationIdFormat = Define("organisation-id-format", 400, "The organisation id must be la:<3 digits>, school:<6-digit URN> or health:<ODS code>.");
    public static readonly ProblemType OrganisationNameRequired = Define("organisation-name", 400, "The organisation needs a name of at most 200 characters, not only spaces, without control characters.");
    public static readonly ProblemType SchoolLaNumberRequired = Define("school-la-number", 400, "A school needs the LA number of a registered council; other organisations take none.");
    public static readonly ProblemType OrganisationExists = Define("organisation-exists", 409, "An organisation with that id already exists with different details.");
    public static readonly ProblemType OrganisationNotFound = Define("organisation-not-found", 404, "There is no organisation with that id.");
    public static readonly ProblemType OperatorImmutable = Define("operator-immutable", 409, "The exchange operator organisation cannot be deactivated.");
    public static readonly ProblemType KekManagedExternally = Define("kek-managed-externally", 409, "Key Vault keys get new versions in the vault; rotation then moves data keys to the version configured or latest.");
    public static readonly ProblemType RelationshipDate = Define("relationship-date", 400, "Dates are YYYY-MM-DD, within the last 26 years and not in the future, and an end is not before its start.");
    public static readonly ProblemType UrnFormat = Define("urn-format", 400, "A school URN is six digits.");
    public static readonly ProblemType OdsFormat = Define("ods-format", 400, "An ODS code is 3 to 6 letters and digits.");
    public static readonly ProblemType OrganisationNotRegistered = Define("organisation-not-registered", 400, "The organisation is not registered with the exchange, or is deactivated.");
    public static readonly ProblemType RelationshipNotFound = Define("relationship-not-found", 404, "There is no such relationship for a child in the caller's care.");
    public static readonly ProblemType RelationshipEnded = Define("relationship-ended", 409, "The relationship has already ended on another date.");
    public static readonly ProblemType ConsentInvalid = Define("consent-invalid", 400, "The consent names an unknown giver, category, purpose or recipient, or its dates are not valid.");
    public static readonly ProblemType ProcessingLimitInvalid = Define("processing-limit-invalid", 400, "A restriction or objection needs active (true or false), purposes from the policy and a reason of 10 to 500 characters.");
    public static readonly ProblemType DataSubjectNotInformed = Define("data-subject-not-informed", 400, "Lifting a restriction (UK GDPR Art. 18(3)) needs dataSubjectInformedOn: the day (YYYY-MM-DD, not in the future) the data subject was told.");
    public static readonly ProblemType ProcessingLimitAuthority = Define("processing-limit-authority", 403, "The restriction or objection in force was recorded by a higher authority (the operator's DPO); only that authority can lift or change it.");
    public static readonly ProblemType ConsentNotFound = Define("consent-not-found", 404, "There is no such consent for a child in the caller's care.");
    public static readonly ProblemType AuditQueryInvalid = Define("audit-query-invalid", 400, "The audit query's parameters are not valid.");
    public static readonly ProblemType PurposeNotPermitted = Define("purpose-not-permitted", 403, "This operation is not permitted for the declared purpose of use.");
    public static readonly ProblemType RelationshipNotCurrent = Define("relationship-not-current", 403, "Your organisation's relationship with this child does not hold today (before it started or after it ended).");
    public static readonly ProblemType ProcessingRestricted = Define("processing-restricted", 403, "Processing of this child's data is restricted (Art. 18) or objected to (Art. 21) for the declared purpose.");
    public static readonly ProblemType ConsentRequired = Define("consent-required", 403, "This data is shared with your organisation only under a recorded consent, and none covers it today.");
    public static readonly ProblemType BreakGlassRequired = Define("break-glass-required", 403, "No relationship gives your organisation this data; for safeguarding, a break-glass grant is needed.");
    public static readonly ProblemType FilterNotPermitted = Define("filter-not-permitted", 400, "The query filters or sorts by a field you may not see.");
    public static readonly ProblemType BreakGlassInvalid = Define("break-glass-invalid", 400, "Break-glass needs a written reason of 20 to 1000 characters and a duration of 1 to 60 minutes.");
    public static readonly ProblemType HandoverInvalid = Define("handover-invalid", 400, "A handover names a receiving council that has a care episode for the child, other than the handing-over council (one that looked after the child), and categories of the policy a responsible council reads.");
    public static readonly ProblemType HandoverNotFound = Define("handover-not-found", 404, "There is no such handover that your organisation recorded for this child.");
    public static readonly ProblemType BatchTooLarge = Define("batch-too-large", 413, "The batch carries more items than the operation takes in one call (a roll check 5,000 pupils); send it in parts.");
    public static readonly ProblemType RollCheckLimit = Define("roll-check-limit", 429, "Your school has made as many roll checks, or checked as many pupils, as it may in 24 hours; retry after the Retry-After interval.");
    public static readonly ProblemType DateOfBirthFormat = Define("date-of-birth-format", 400, "A date of birth is a date (YYYY-MM-DD), not in the future and within the last 26 years.");
    public static readonly ProblemType SchoolEnrolmentInvalid = Define("school-enrolment-invalid", 400, "A school declares only its own enrolment (its own URN), starting on the day it declares it.");
    public static readonly ProblemType IdempotencyKeyMissing = Define("idempotency-key-missing", 400, "This operation needs an Idempotency-Key header (1 to 255 visible ASCII characters): a retry with the same key and body returns the first answer.");
    public static readonly ProblemType IdempotencyKeyReused = Define("idempotency-key-reused", 422, "This Idempotency-Key was used with a different request body; use a new key for a new batch.");
    public static readonly ProblemType CsvHeader = Define("csv-header", 400, "The CSV file's first line must be the header childId,date,session,code (minutesLate optional).");
    public static readonly ProblemType ExclusionType = Define("exclusion-type", 400, "type is suspension or permanent-exclusion.");
    public static readonly ProblemType ExclusionDate = Define("exclusion-date", 400, "startDate is a real date (YYYY-MM-DD), not in the future and within the last 26 years.");
    public static readonly ProblemType ExclusionSessions = Define("exclusion-sessions", 400, "A suspension gives its sessions (half days, 1 to 90); a permanent exclusion gives none.");
    public static readonly ProblemType ExclusionReasonUnknown = Define("exclusion-reason-unknown", 400, "reasonCode is not one of the DfE's reason codes for exclusions (two capital letters, exact).");
    public static readonly ProblemType ExclusionReasonWithdrawn = Define("exclusion-reason-withdrawn", 400, "reasonCode is a code the DfE no longer collects; the detail says what to send instead.");
    public static readonly ProblemType ExclusionReasonText = Define("exclusion-reason-text", 400, "reasonText, when given, is 1 to 2,000 characters of text (line breaks allowed, no other control characters).");
    public static readonly ProblemType ExclusionNotEnrolled = Define("exclusion-not-enrolled", 400, "The pupil was not enrolled at this school on startDate (before its enrolment started, or after it ended).");
    public static readonly ProblemType ExclusionNotInCare = Define("exclusion-not-in-care", 400, "The child was not in care on startDate: the exchange holds exclusions only for children in care.");
    public static readonly ProblemType ExclusionExists = Define("exclusion-exists", 409, "This school already recorded an exclusion of this type for the pupil from this day, with other details; the record stands as first sent.");

    // Personal Education Plans
    public static readonly ProblemType PepMeetingDate = Define("pep-meeting-date", 400, "meetingDate is a real date (YYYY-MM-DD), not in the future and within the last 26 years.");
    public static readonly ProblemType PepNextReviewDate = Define("pep-next-review-date", 400, "nextReviewDate, when given, is a real date after meetingDate and within a year of it.");
    public static readonly ProblemType PepText = Define("pep-text", 400, "A PEP text field, when given, is 1 to 4,000 characters of text (a name or attendee 1 to 200), line breaks allowed, no other control characters.");
    public static readonly ProblemType PepTargets = Define("pep-targets", 400, "targets: at most 20, each with a unique id (1 to 20 letters, digits or hyphens), a description, a measure, a dueBy date and a status (not-started, in-progress, achieved, not-achieved).");
    public static readonly ProblemType PepPremium = Define("pep-premium", 400, "pupilPremiumPlus: at most 20 items, each naming one of the plan's targets (targetId), an amount in pounds above 0 and at most 10,000 with at most 2 decimal places, and a description.");
    public static readonly ProblemType PepSenStatus = Define("pep-sen-status", 400, "senStatus, when given, is none, sen-support or ehcp (the DfE's N, K and E).");
    public static readonly ProblemType PepAttendees = Define("pep-attendees", 400, "attendees: at most 30, each 1 to 200 characters.");
    public static readonly ProblemType PepQuality = Define("pep-quality", 400, "quality is red, amber or green.");
    public static readonly ProblemType PepReturnReason = Define("pep-return-reason", 400, "reason is 1 to 4,000 characters of text saying what the plan needs.");
    public static readonly ProblemType PepNotFound = Define("pep-not-found", 404, "The child has no PEP yet, or no version with this number.");
    public static readonly ProblemType PepNotInCare = Define("pep-not-in-care", 409, "The child is not in care now: the exchange keeps PEPs for children in care.");
    public static readonly ProblemType PepHealthNotWritable = Define("pep-health-not-writable", 403, "The health section is written by the virtual school; leave healthSection out (what is held is kept).");
    public static readonly ProblemType PepUnderReview = Define("pep-under-review", 409, "The plan is submitted and with the virtual school: it is approved or returned before it is changed again.");
    public static readonly ProblemType PepTransition = Define("pep-transition-invalid", 409, "The plan's status does not allow this step (draft or returned → submitted by the school; submitted → returned or approved by the virtual school).");
    public static readonly ProblemType PepStepNotYours = Define("pep-step-not-yours", 403, "The designated teacher's school submits a plan; the responsible council's virtual school returns or approves it.");
    public static readonly ProblemType EventsCursor = Define("events-cursor", 400, "after is the next value of an earlier page of the feed (digits), or left out to start from the beginning.");
    public static readonly ProblemType EventsLimit = Define("events-limit", 400, "limit is a whole number from 1 to 500.");
    public static readonly ProblemType SubscriptionUrl = Define("subscription-url", 400, "url is an absolute https URL (http only where the service allows it) of at most 2,000 characters, without user name or password, to a public address.");
    public static readonly ProblemType SubscriptionEventTypes = Define("subscription-event-types", 400, "eventTypes lists one or more of the event types, each once.");
    public static readonly ProblemType SubscriptionLimit = Define("subscription-limit", 409, "Your organisation holds as many subscriptions as it may; delete one first.");
    public static readonly ProblemType SubscriptionNotFound = Define("subscription-not-found", 404, "Your organisation has no subscription with this id.");
    public static readonly ProblemType SubscriptionRolesRequired = Define("subscription-roles-required", 403, "This subscription was made with roles your token does not hold: deleting it, rotating its secret or redelivering its dead letters needs every one of them.");
    public static readonly ProblemType DeadLetterNotFound = Define("dead-letter-not-found", 404, "This subscription has no dead letter with this id.");
    public static readonly ProblemType CohortCursor = Define("cohort-cursor", 400, "cursor is the next value of an earlier page of the cohort, or left out to start from the beginning.");
    public static readonly ProblemType CohortLimit = Define("cohort-limit", 400, "limit is a whole number from 1 to 5000.");
    public static readonly ProblemType CohortFlag = Define("cohort-flag", 400, "flag is one of persistent-absence, severe-absence, missing-education, pep-overdue, no-current-school (repeat it to ask for rows with all of them).");
    public static readonly ProblemType CohortUpdatedSince = Define("cohort-updated-since", 400, "updatedSince is a date and time with its offset (RFC 3339, e.g. 2026-01-05T09:00:00Z), not in the future and not before 2000.");
    public static readonly ProblemType CohortSchoolCouncil = Define("cohort-school-council", 400, "schoolLa is a three-digit LA number.");
    public static readonly ProblemType PreconditionRequired = Define("precondition-required", 428, "This resource exists: send If-Match with the ETag of the version you read.");
    public static readonly ProblemType PreconditionFailed = Define("precondition-failed", 412, "If-Match does not match the current version: read it again, then retry your change on it.");
    public static readonly ProblemType AttendanceQueryInvalid = Define("attendance-query-invalid", 400, "from and to are dates (YYYY-MM-DD), from not after to, at most a year apart.");

    // One item of a batch (a mark), reported in the answer's rejected list, never as the answer's status
    public static readonly ProblemType MarkInvalid = Define("mark-invalid", 400, "The mark is not an object with childId, date, session and code as strings (minutesLate a number), or its CSV row does not have the header's columns.");
    public static readonly ProblemType AttendanceCodeUnknown = Define("attendance-code-unknown", 400, "The code is not a national attendance code (from August 2024); codes are exact and case-sensitive.");
    public static readonly ProblemType AttendanceCodeWithdrawn = Define("attendance-code-withdrawn", 400, "The code was withdrawn in August 2024; the detail names the code that replaced it.");
    public static readonly ProblemType AttendanceSession = Define("attendance-session", 400, "The session is AM or PM (and / is a morning code, \\ an afternoon one).");
    public static readonly ProblemType AttendanceDate = Define("attendance-date", 400, "The date is a real date (YYYY-MM-DD), not in the future.");
    public static readonly ProblemType AttendanceMinutesLate = Define("attendance-minutes-late", 400, "minutesLate is a whole number from 0 to 300, given only with the late codes L and U.");
    public static readonly ProblemType AttendanceNotEnrolled = Define("attendance-not-enrolled", 400, "The child was not enrolled at this school on that date (before its enrolment started, or after it ended).");
    public static readonly ProblemType AttendanceNotInCare = Define("attendance-not-in-care", 400, "The child was not in care on that date: the exchange holds marks only for children in care.");
    public static readonly ProblemType AttendanceDuplicate = Define("attendance-duplicate", 400, "The batch holds another mark for the same child, date and session; send one.");
    public static readonly ProblemType CursorInvalid = Define("cursor-invalid", 400, "The cursor is not one this service issued.");
    public static readonly ProblemType LimitInvalid = Define("limit-invalid", 400, "The limit must be between 1 and 200.");

    public static IReadOnlyList<ProblemType> Known => All;

    public static ProblemType ForCode(string code) =>
        All.Find(t => t.Code == code) ?? ValidationFailed;

    /// <summary>The generic problem for a bare status code (used by status-code pages).</summary>
    public static ProblemType ForStatus(int status) => status switch
    {
        401 => Unauthenticated,
        403 => Forbidden,
        404 => NotFound,
        405 => MethodNotAllowed,
        410 => ChildErased,
        413 => PayloadTooLarge,
        415 => UnsupportedMediaType,
        429 => RateLimited,
        503 => ServiceUnavailable,
        >= 500 => InternalError,
        _ => MalformedRequest,
    };
}

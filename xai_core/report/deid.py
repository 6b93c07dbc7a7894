"""De-identification: which DICOM attributes identify a patient, and keeping them out of reports.

The attribute list is data, taken from DICOM PS3.15 (Security and System
Management Profiles), Annex E "Attribute Confidentiality Profiles",
Table E.1-1 "Application Level Confidentiality Profile Attributes", column
"Basic Prof.": each row is (pydicom keyword, action code). Action codes:
D replace with a dummy, Z zero length or dummy, X remove, K keep, C clean,
U replace UID, and combinations such as X/Z. For a report every one of them
means the same thing: the value never appears. On top of the table, any
element whose value representation is a person name (PN), a date or time
(DA, DT, TM) or an instance UID (UI) counts as identifying, as the basic
profile requires for dates and UIDs in general (E.3.1, E.3.10), and private
tags are out (E.3.8: "Retain Safe Private Option" is not offered).

Reports never read the header for display: ``DicomSlice.info`` carries
only technical facts (modality, size, photometric interpretation, rescale,
window) from a closed list, ``SAFE_INFO_KEYS``. Identifiers are read from
the file only when the user asks to include them (``read_identifiers``),
and ``scrub`` is a second guard over the finished text. Burned-in text in
the pixels (E.3.1's "Clean Pixel Data Option") is not handled.
"""

from __future__ import annotations

import io

# DICOM PS3.15 Annex E, Table E.1-1, Basic Application Level Confidentiality Profile.
BASIC_PROFILE: tuple[tuple[str, str], ...] = (
    ("AccessionNumber", "Z"),
    ("AcquisitionComments", "X"),
    ("AcquisitionContextSequence", "X"),
    ("AcquisitionDate", "X/Z"),
    ("AcquisitionDateTime", "X/Z/D"),
    ("AcquisitionDeviceProcessingDescription", "X/D"),
    ("AcquisitionProtocolDescription", "X"),
    ("AcquisitionTime", "X/Z"),
    ("ActualHumanPerformersSequence", "X"),
    ("AdditionalPatientHistory", "X"),
    ("AdmissionID", "X"),
    ("AdmittingDate", "X"),
    ("AdmittingDiagnosesCodeSequence", "X"),
    ("AdmittingDiagnosesDescription", "X"),
    ("AdmittingTime", "X"),
    ("AffectedSOPInstanceUID", "X"),
    ("Allergies", "X"),
    ("Arbitrary", "X"),
    ("AuthorObserverSequence", "X"),
    ("BranchOfService", "X"),
    ("CassetteID", "X"),
    ("CommentsOnThePerformedProcedureStep", "X"),
    ("ConcatenationUID", "U"),
    ("ConfidentialityConstraintOnPatientDataDescription", "X"),
    ("ContentCreatorName", "Z"),
    ("ContentCreatorIdentificationCodeSequence", "X"),
    ("ContentDate", "Z/D"),
    ("ContentTime", "Z/D"),
    ("ContextGroupExtensionCreatorUID", "U"),
    ("ContrastBolusAgent", "Z/D"),
    ("ContributionDescription", "X"),
    ("CountryOfResidence", "X"),
    ("CreatorVersionUID", "U"),
    ("CurrentPatientLocation", "X"),
    ("CurveDate", "X"),
    ("CurveTime", "X"),
    ("CustodialOrganizationSequence", "X"),
    ("DataSetTrailingPadding", "X"),
    ("DerivationDescription", "X"),
    ("DetectorID", "X"),
    ("DeviceSerialNumber", "X/Z/D"),
    ("DeviceUID", "U"),
    ("DigitalSignatureUID", "X"),
    ("DigitalSignaturesSequence", "X"),
    ("DimensionOrganizationUID", "U"),
    ("DischargeDiagnosisDescription", "X"),
    ("DistributionAddress", "X"),
    ("DistributionName", "X"),
    ("DoseReferenceUID", "U"),
    ("EthnicGroup", "X"),
    ("FailedSOPInstanceUIDList", "U"),
    ("FiducialUID", "U"),
    ("FillerOrderNumberImagingServiceRequest", "Z"),
    ("FrameComments", "X"),
    ("FrameOfReferenceUID", "U"),
    ("GantryID", "X"),
    ("GeneratorID", "X"),
    ("GraphicAnnotationSequence", "D"),
    ("HumanPerformerName", "X"),
    ("HumanPerformerOrganization", "X"),
    ("IconImageSequence", "X"),
    ("IdentifyingComments", "X"),
    ("ImageComments", "X"),
    ("ImagePresentationComments", "X"),
    ("ImagingServiceRequestComments", "X"),
    ("Impressions", "X"),
    ("InstanceCreationDate", "X/D"),
    ("InstanceCreationTime", "X/Z/D"),
    ("InstanceCreatorUID", "U"),
    ("InstitutionAddress", "X"),
    ("InstitutionCodeSequence", "X/Z/D"),
    ("InstitutionName", "X/Z/D"),
    ("InstitutionalDepartmentName", "X"),
    ("InsurancePlanIdentification", "X"),
    ("IntendedRecipientsOfResultsIdentificationSequence", "X"),
    ("InterpretationApproverSequence", "X"),
    ("InterpretationAuthor", "X"),
    ("InterpretationDiagnosisDescription", "X"),
    ("InterpretationIDIssuer", "X"),
    ("InterpretationRecorder", "X"),
    ("InterpretationText", "X"),
    ("InterpretationTranscriber", "X"),
    ("IrradiationEventUID", "U"),
    ("IssuerOfAdmissionID", "X"),
    ("IssuerOfPatientID", "X"),
    ("IssuerOfServiceEpisodeID", "X"),
    ("LargePaletteColorLookupTableUID", "U"),
    ("MAC", "X"),
    ("MediaStorageSOPInstanceUID", "U"),
    ("MedicalAlerts", "X"),
    ("MedicalRecordLocator", "X"),
    ("MilitaryRank", "X"),
    ("ModifiedAttributesSequence", "X"),
    ("ModifiedImageDescription", "X"),
    ("ModifyingDeviceID", "X"),
    ("NameOfPhysiciansReadingStudy", "X"),
    ("NamesOfIntendedRecipientsOfResults", "X/Z"),
    ("Occupation", "X"),
    ("OperatorIdentificationSequence", "X/D"),
    ("OperatorsName", "X/Z/D"),
    ("OriginalAttributesSequence", "X"),
    ("OrderCallbackPhoneNumber", "X"),
    ("OrderEnteredBy", "X"),
    ("OrderEntererLocation", "X"),
    ("OtherPatientIDsSequence", "X"),
    ("OtherPatientNames", "X"),
    ("OverlayDate", "X"),
    ("OverlayTime", "X"),
    ("ParticipantSequence", "X"),
    ("PatientAddress", "X"),
    ("PatientAge", "X"),
    ("PatientBirthDate", "Z"),
    ("PatientBirthName", "X"),
    ("PatientBirthTime", "X"),
    ("PatientComments", "X"),
    ("PatientID", "Z"),
    ("PatientInsurancePlanCodeSequence", "X"),
    ("PatientMotherBirthName", "X"),
    ("PatientName", "Z"),
    ("PatientPrimaryLanguageCodeSequence", "X"),
    ("PatientReligiousPreference", "X"),
    ("PatientSex", "Z"),
    ("PatientSexNeutered", "X/Z"),
    ("PatientSize", "X"),
    ("PatientState", "X"),
    ("PatientTelephoneNumbers", "X"),
    ("PatientTransportArrangements", "X"),
    ("PatientWeight", "X"),
    ("PerformedLocation", "X"),
    ("PerformedProcedureStepDescription", "X"),
    ("PerformedProcedureStepEndDate", "X"),
    ("PerformedProcedureStepEndTime", "X"),
    ("PerformedProcedureStepID", "X"),
    ("PerformedProcedureStepStartDate", "X"),
    ("PerformedProcedureStepStartTime", "X"),
    ("PerformedStationAETitle", "X"),
    ("PerformedStationGeographicLocationCodeSequence", "X"),
    ("PerformedStationName", "X"),
    ("PerformedStationNameCodeSequence", "X"),
    ("PerformingPhysicianIdentificationSequence", "X"),
    ("PerformingPhysicianName", "X"),
    ("PersonAddress", "X"),
    ("PersonIdentificationCodeSequence", "D"),
    ("PersonName", "D"),
    ("PersonTelephoneNumbers", "X"),
    ("PhysicianApprovingInterpretation", "X"),
    ("PhysiciansOfRecord", "X"),
    ("PhysiciansOfRecordIdentificationSequence", "X"),
    ("PhysiciansReadingStudyIdentificationSequence", "X"),
    ("PlacerOrderNumberImagingServiceRequest", "Z"),
    ("PlateID", "X"),
    ("PreMedication", "X"),
    ("PregnancyStatus", "X"),
    ("ProtocolName", "X/D"),
    ("ReasonForTheImagingServiceRequest", "X"),
    ("ReasonForTheRequestedProcedure", "X"),
    ("ReasonForVisit", "X"),
    ("ReasonForStudy", "X"),
    ("ReferencedDigitalSignatureSequence", "X"),
    ("ReferencedFrameOfReferenceUID", "U"),
    ("ReferencedGeneralPurposeScheduledProcedureStepTransactionUID", "U"),
    ("ReferencedImageSequence", "X/Z/U"),
    ("ReferencedPatientAliasSequence", "X"),
    ("ReferencedPatientSequence", "X"),
    ("ReferencedPerformedProcedureStepSequence", "X/Z/D"),
    ("ReferencedSOPInstanceMACSequence", "X"),
    ("ReferencedSOPInstanceUID", "U"),
    ("ReferencedSOPInstanceUIDInFile", "U"),
    ("ReferencedStudySequence", "X/Z"),
    ("ReferringPhysicianAddress", "X"),
    ("ReferringPhysicianIdentificationSequence", "X"),
    ("ReferringPhysicianName", "Z"),
    ("ReferringPhysicianTelephoneNumbers", "X"),
    ("RegionOfResidence", "X"),
    ("RelatedFrameOfReferenceUID", "U"),
    ("RequestAttributesSequence", "X"),
    ("RequestedContrastAgent", "X"),
    ("RequestedProcedureComments", "X"),
    ("RequestedProcedureDescription", "X/Z"),
    ("RequestedProcedureID", "X"),
    ("RequestedProcedureLocation", "X"),
    ("RequestedSOPInstanceUID", "U"),
    ("RequestingPhysician", "X"),
    ("RequestingService", "X"),
    ("ResponsibleOrganization", "X"),
    ("ResponsiblePerson", "X"),
    ("ResultsComments", "X"),
    ("ResultsDistributionListSequence", "X"),
    ("ResultsIDIssuer", "X"),
    ("ReviewerName", "X/Z"),
    ("ScheduledHumanPerformersSequence", "X"),
    ("ScheduledPatientInstitutionResidence", "X"),
    ("ScheduledPerformingPhysicianIdentificationSequence", "X"),
    ("ScheduledPerformingPhysicianName", "X"),
    ("ScheduledProcedureStepEndDate", "X"),
    ("ScheduledProcedureStepEndTime", "X"),
    ("ScheduledProcedureStepDescription", "X"),
    ("ScheduledProcedureStepLocation", "X"),
    ("ScheduledProcedureStepStartDate", "X"),
    ("ScheduledProcedureStepStartTime", "X"),
    ("ScheduledStationAETitle", "X"),
    ("ScheduledStationGeographicLocationCodeSequence", "X"),
    ("ScheduledStationName", "X"),
    ("ScheduledStationNameCodeSequence", "X"),
    ("ScheduledStudyLocation", "X"),
    ("ScheduledStudyLocationAETitle", "X"),
    ("SeriesDate", "X/D"),
    ("SeriesDescription", "X"),
    ("SeriesInstanceUID", "U"),
    ("SeriesTime", "X/D"),
    ("ServiceEpisodeDescription", "X"),
    ("ServiceEpisodeID", "X"),
    ("SmokingStatus", "X"),
    ("SOPInstanceUID", "U"),
    ("SourceImageSequence", "X/Z/U"),
    ("SpecialNeeds", "X"),
    ("StationName", "X/Z/D"),
    ("StorageMediaFileSetUID", "U"),
    ("StudyComments", "X"),
    ("StudyDate", "Z"),
    ("StudyDescription", "X"),
    ("StudyID", "Z"),
    ("StudyIDIssuer", "X"),
    ("StudyInstanceUID", "U"),
    ("StudyTime", "Z"),
    ("SynchronizationFrameOfReferenceUID", "U"),
    ("TemplateExtensionCreatorUID", "U"),
    ("TemplateExtensionOrganizationUID", "U"),
    ("TextComments", "X"),
    ("TextString", "X"),
    ("TimezoneOffsetFromUTC", "X"),
    ("TopicAuthor", "X"),
    ("TopicKeywords", "X"),
    ("TopicSubject", "X"),
    ("TopicTitle", "X"),
    ("TransactionUID", "U"),
    ("UID", "U"),
    ("VerifyingObserverIdentificationCodeSequence", "Z"),
    ("VerifyingObserverName", "D"),
    ("VerifyingObserverSequence", "D"),
    ("VerifyingOrganization", "X"),
    ("VisitComments", "X"),
)
BASIC_PROFILE_KEYWORDS = frozenset(k for k, _ in BASIC_PROFILE)
IDENTIFYING_VRS = frozenset({"PN", "DA", "DT", "TM"})
# UIDs that name a kind of thing, not an instance: no patient can be traced through them.
CLASS_UIDS = frozenset({"SOPClassUID", "MediaStorageSOPClassUID", "TransferSyntaxUID",
                        "ImplementationClassUID", "ReferencedSOPClassUID"})
# The only facts about a DICOM file a report may print without being asked (DicomSlice.info keys).
SAFE_INFO_KEYS = frozenset({"modality", "photometric", "transfer_syntax", "frames", "size", "rescale",
                            "frame_shown", "inverted", "window", "plane", "slice", "slices", "kind"})

BURNED_IN_NOTE = ("Burned-in text in the image pixels (names or dates printed into the picture) is not "
                  "detected or removed; check the scan before sharing.")


def is_identifying(keyword: str, vr: str) -> bool:
    """True for an attribute of PS3.15's basic profile, any name/date/time, or an instance UID."""
    if keyword in BASIC_PROFILE_KEYWORDS or vr in IDENTIFYING_VRS:
        return True
    return vr == "UI" and keyword not in CLASS_UIDS


def read_identifiers(data: bytes) -> dict[str, str]:
    """The identifying attributes of a DICOM file as {keyword: text}, read only when the user asks for them.

    Sequences and private tags are named but not expanded: their presence is reported, their content is not
    needed to say who the scan belongs to.
    """
    import pydicom

    try:
        ds = pydicom.dcmread(io.BytesIO(data), stop_before_pixels=True, force=True)
    except Exception:
        return {}
    out: dict[str, str] = {}
    for el in ds.iterall():
        kw = el.keyword or str(el.tag)
        if el.tag.is_private or el.VR == "SQ" or not is_identifying(kw, el.VR):
            continue
        text = str(el.value).strip()
        if text:
            out.setdefault(kw, text)
    return out


def safe_info(info: dict) -> dict:
    """``DicomSlice.info`` restricted to the technical keys a report may print."""
    return {k: v for k, v in (info or {}).items() if k in SAFE_INFO_KEYS}


def variants(value: str) -> set[str]:
    """Ways a DICOM value can be written in text: as stored, '^' as spaces or commas, and its parts."""
    v = value.strip()
    out = {v, v.replace("^", " ").strip(), v.replace("^", ", ").strip()}
    if "^" in v:
        out |= {p.strip() for p in v.split("^")}
    return {x for x in out if len(x) >= 3}


def scrub(text: str, identifiers: dict[str, str] | None, mark: str = "[removed]") -> str:
    """Replace every identifier value (and its name variants) in ``text``; a second guard, not the first."""
    if not identifiers:
        return text
    for value in sorted({x for v in identifiers.values() for x in variants(v)}, key=len, reverse=True):
        text = text.replace(value, mark)
    return text

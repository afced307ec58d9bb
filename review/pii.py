"""The masking rules, as the dashboard uses them; they live in `storage.pii` (tips are masked at write time)."""

from storage.pii import EMAIL_MASK, PHONE_MASK, has_contacts, looks_like_phone, mask_contacts, remove_contacts

__all__ = ["EMAIL_MASK", "PHONE_MASK", "has_contacts", "looks_like_phone", "mask_contacts", "remove_contacts"]

"""Access records: who read or disclosed what of a case, why and when (DESIGN §2, DOMAIN §6)."""

#include "hsm/objects.h"

#include <cstring>
#include <utility>

namespace signet::hsm {
namespace {

std::string attribute_name(CK_ATTRIBUTE_TYPE type) {
  switch (type) {
    case CKA_CLASS: return "CKA_CLASS";
    case CKA_KEY_TYPE: return "CKA_KEY_TYPE";
    case CKA_ID: return "CKA_ID";
    case CKA_LABEL: return "CKA_LABEL";
    case CKA_VALUE: return "CKA_VALUE";
    case CKA_MODULUS: return "CKA_MODULUS";
    case CKA_PUBLIC_EXPONENT: return "CKA_PUBLIC_EXPONENT";
    case CKA_EC_PARAMS: return "CKA_EC_PARAMS";
    case CKA_EC_POINT: return "CKA_EC_POINT";
    case CKA_LOCAL: return "CKA_LOCAL";
    case CKA_ALWAYS_SENSITIVE: return "CKA_ALWAYS_SENSITIVE";
    case CKA_NEVER_EXTRACTABLE: return "CKA_NEVER_EXTRACTABLE";
    case CKA_ALLOWED_MECHANISMS: return "CKA_ALLOWED_MECHANISMS";
    default: return "attribute " + std::to_string(type);
  }
}

// The two-call pattern: ask for the length, then for the bytes.
// An object found a moment ago may be destroyed by another session (a replaced data object,
// a retired key) before its attributes are read: kNotFound lets a listing skip it.
Error gone(const std::string& what) { return make_error(Code::kNotFound, what + ": the object is gone"); }

// The two calls without judging their answer: CKR_OK with the value, or the failing code.
CK_RV query_attribute(SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type,
                      std::string& value) {
  CK_ATTRIBUTE attribute{type, nullptr, 0};
  CK_RV rv = session.api.C_GetAttributeValue(session.handle, object, &attribute, 1);
  if (rv != CKR_OK) return rv;
  // The length query succeeded without a length: the token cannot tell this attribute.
  if (attribute.ulValueLen == CK_UNAVAILABLE_INFORMATION) return CKR_ATTRIBUTE_TYPE_INVALID;
  value.assign(attribute.ulValueLen, '\0');
  attribute.pValue = value.data();
  rv = session.api.C_GetAttributeValue(session.handle, object, &attribute, 1);
  if (rv == CKR_OK) value.resize(attribute.ulValueLen);
  return rv;
}

Result<std::string> read_attribute(SessionRef& session, CK_OBJECT_HANDLE object,
                                   CK_ATTRIBUTE_TYPE type) {
  std::string what = "C_GetAttributeValue(" + attribute_name(type) + ")";
  std::string value;
  CK_RV rv = query_attribute(session, object, type, value);
  if (rv == CKR_OBJECT_HANDLE_INVALID) return gone(what);
  if (rv != CKR_OK) return session.fail(what, rv);
  return value;
}

Result<std::vector<CK_MECHANISM_TYPE>> as_mechanisms(CK_ATTRIBUTE_TYPE type, const std::string& raw) {
  if (raw.size() % sizeof(CK_MECHANISM_TYPE) != 0) {
    return make_error(Code::kInternal, attribute_name(type) + " is not a mechanism list");
  }
  std::vector<CK_MECHANISM_TYPE> mechanisms(raw.size() / sizeof(CK_MECHANISM_TYPE));
  if (!mechanisms.empty()) std::memcpy(mechanisms.data(), raw.data(), raw.size());
  return mechanisms;
}

}  // namespace

Template& Template::add_raw(CK_ATTRIBUTE_TYPE type, std::string bytes) {
  std::string& stored = storage_.emplace_back(std::move(bytes));
  attributes_.push_back(CK_ATTRIBUTE{type, stored.empty() ? nullptr : stored.data(),
                                     static_cast<CK_ULONG>(stored.size())});
  return *this;
}

Template& Template::add_bool(CK_ATTRIBUTE_TYPE type, bool value) {
  CK_BBOOL b = value ? CK_TRUE : CK_FALSE;
  return add_raw(type, std::string(reinterpret_cast<const char*>(&b), sizeof b));
}

Template& Template::add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value) {
  return add_raw(type, std::string(reinterpret_cast<const char*>(&value), sizeof value));
}

Template& Template::add_bytes(CK_ATTRIBUTE_TYPE type, std::string_view value) {
  return add_raw(type, std::string(value));
}

Template& Template::add_mechanisms(CK_ATTRIBUTE_TYPE type,
                                   const std::vector<CK_MECHANISM_TYPE>& value) {
  return add_raw(type, std::string(reinterpret_cast<const char*>(value.data()),
                                   value.size() * sizeof(CK_MECHANISM_TYPE)));
}

Result<std::vector<CK_OBJECT_HANDLE>> find_objects(SessionRef& session, Template& match) {
  CK_RV rv = session.api.C_FindObjectsInit(session.handle, match.data(), match.size());
  if (rv != CKR_OK) return session.fail("C_FindObjectsInit", rv);
  std::vector<CK_OBJECT_HANDLE> found;
  CK_OBJECT_HANDLE batch[64];
  for (;;) {
    CK_ULONG count = 0;
    rv = session.api.C_FindObjects(session.handle, batch, 64, &count);
    if (rv != CKR_OK || count == 0) break;
    found.insert(found.end(), batch, batch + count);
  }
  // Always end the search: a session left searching cannot search again.
  CK_RV final_rv = session.api.C_FindObjectsFinal(session.handle);
  // A search that may still be open would make every later search in the session fail.
  if (final_rv != CKR_OK) session.discard = true;
  if (rv != CKR_OK) return session.fail("C_FindObjects", rv);
  if (final_rv != CKR_OK) return session.fail("C_FindObjectsFinal", final_rv);
  return found;
}

Result<std::string> get_bytes(SessionRef& session, CK_OBJECT_HANDLE object,
                              CK_ATTRIBUTE_TYPE type) {
  return read_attribute(session, object, type);
}

Result<bool> get_bool(SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  auto raw = read_attribute(session, object, type);
  if (!raw.ok()) return raw.error();
  if (raw->size() != sizeof(CK_BBOOL)) {
    return make_error(Code::kInternal, attribute_name(type) + " is not a CK_BBOOL");
  }
  return (*raw)[0] != 0;
}

Result<CK_ULONG> get_ulong(SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  auto raw = read_attribute(session, object, type);
  if (!raw.ok()) return raw.error();
  if (raw->size() != sizeof(CK_ULONG)) {
    return make_error(Code::kInternal, attribute_name(type) + " is not a CK_ULONG");
  }
  CK_ULONG value = 0;
  std::memcpy(&value, raw->data(), sizeof value);
  return value;
}

Result<std::optional<std::vector<CK_MECHANISM_TYPE>>> get_mechanisms_if_reported(
    SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type) {
  std::string raw;
  const CK_RV rv = query_attribute(session, object, type, raw);
  if (rv == CKR_OBJECT_HANDLE_INVALID) return gone("C_GetAttributeValue(" + attribute_name(type) + ")");
  // The session or the login is gone: that is the connection's trouble, not the attribute's.
  const Fault fault = classify(rv);
  if (fault == Fault::kSessionLost || fault == Fault::kLoggedOut || fault == Fault::kStaleHandle) {
    return session.fail("C_GetAttributeValue(" + attribute_name(type) + ")", rv);
  }
  // Anything else (CKR_ATTRIBUTE_TYPE_INVALID from a token without the attribute, the
  // CKR_DEVICE_ERROR of a remoting layer that cannot carry it) says only that the token does not
  // report it; a device that is really gone fails the next call as usual.
  if (rv != CKR_OK) return std::optional<std::vector<CK_MECHANISM_TYPE>>();
  auto mechanisms = as_mechanisms(type, raw);
  if (!mechanisms.ok()) return mechanisms.error();
  return std::optional<std::vector<CK_MECHANISM_TYPE>>(std::move(*mechanisms));
}

Status require_login(SessionRef& session) {
  CK_SESSION_INFO info{};
  CK_RV rv = session.api.C_GetSessionInfo(session.handle, &info);
  if (rv != CKR_OK) return session.fail("C_GetSessionInfo", rv);
  if (info.state != CKS_RO_USER_FUNCTIONS && info.state != CKS_RW_USER_FUNCTIONS) {
    return session.fail("the token lost the login; C_GetSessionInfo", CKR_USER_NOT_LOGGED_IN);
  }
  return ok_status();
}

Status destroy_object(SessionRef& session, CK_OBJECT_HANDLE object) {
  CK_RV rv = session.api.C_DestroyObject(session.handle, object);
  if (rv == CKR_OK || rv == CKR_OBJECT_HANDLE_INVALID) return ok_status();
  return session.fail("C_DestroyObject", rv);
}

Status destroy_matching(SessionRef& session, Template& match) {
  auto found = find_objects(session, match);
  if (!found.ok()) return found.error();
  for (CK_OBJECT_HANDLE object : *found) {
    if (Status destroyed = destroy_object(session, object); !destroyed.ok()) return destroyed;
  }
  return ok_status();
}

}  // namespace signet::hsm

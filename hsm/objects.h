// Small tools for token objects: a session reference that remembers whether the module lost
// the session (so the operation can be retried once in a fresh one), attribute templates that
// own their values, object search, and typed attribute reads.
#pragma once

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "hsm/ck.h"

namespace signet::hsm {

// The session one operation runs in.
struct SessionRef {
  const CK_FUNCTION_LIST& api;
  CK_SESSION_HANDLE handle;
  CK_RV lost = CKR_OK;   // set when the module said the session is gone: retry in a new one
  CK_RV fault = CKR_OK;  // the last failing code, which the Hsm classifies (ck.h, Fault)
  bool discard = false;  // set when the session may hold an unfinished operation: close it

  // rv_error(), noting a lost session and the fault on the way.
  Error fail(std::string_view what, CK_RV rv) {
    if (is_session_lost(rv)) lost = rv;
    fault = rv;
    return rv_error(what, rv);
  }
};

// Fails (with CKR_USER_NOT_LOGGED_IN noted as the fault) unless the session still works in the
// user's login. A token that lost the login still answers searches, with the private objects
// left out: every view of the token is checked with this, before and after, so that an empty
// answer always means empty.
Status require_login(SessionRef& session);

// A CK_ATTRIBUTE array whose values live as long as the Template. Not copyable: the
// attributes point into the Template's own storage.
class Template {
 public:
  Template() = default;
  Template(const Template&) = delete;
  Template& operator=(const Template&) = delete;

  Template& add_bool(CK_ATTRIBUTE_TYPE type, bool value);
  Template& add_ulong(CK_ATTRIBUTE_TYPE type, CK_ULONG value);
  Template& add_bytes(CK_ATTRIBUTE_TYPE type, std::string_view value);
  Template& add_mechanisms(CK_ATTRIBUTE_TYPE type, const std::vector<CK_MECHANISM_TYPE>& value);

  CK_ATTRIBUTE* data() { return attributes_.data(); }
  CK_ULONG size() const { return attributes_.size(); }

 private:
  Template& add_raw(CK_ATTRIBUTE_TYPE type, std::string bytes);
  std::deque<std::string> storage_;  // a deque never moves what it already holds
  std::vector<CK_ATTRIBUTE> attributes_;
};

// Every object matching the template, in the module's order.
Result<std::vector<CK_OBJECT_HANDLE>> find_objects(SessionRef& session, Template& match);

// One attribute's value. Errors keep the CKR_ code, e.g. "C_GetAttributeValue(CKA_ID) failed
// (CKR_ATTRIBUTE_TYPE_INVALID)"; an object destroyed meanwhile is Code::kNotFound.
Result<std::string> get_bytes(SessionRef& session, CK_OBJECT_HANDLE object,
                              CK_ATTRIBUTE_TYPE type);
Result<bool> get_bool(SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);
Result<CK_ULONG> get_ulong(SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

// The mechanism list, or nullopt when the token does not report the attribute (it answers an
// error other than a lost session or login, or no length): a token that lacks the attribute,
// or a layer between Signet and the token that cannot carry it.
Result<std::optional<std::vector<CK_MECHANISM_TYPE>>> get_mechanisms_if_reported(
    SessionRef& session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_TYPE type);

// C_DestroyObject; an object that is already gone counts as destroyed.
Status destroy_object(SessionRef& session, CK_OBJECT_HANDLE object);
// Destroys every object matching the template.
Status destroy_matching(SessionRef& session, Template& match);

}  // namespace signet::hsm

// Small records kept in the token beside the keys, as private CKO_DATA objects found by label.
// A write creates the new object before destroying the old ones, so that a crash in between
// leaves two objects rather than none; read_data then answers deterministically.
#include <algorithm>
#include <map>
#include <optional>

#include "hsm/operations.h"

namespace signet::hsm {
namespace {

constexpr std::string_view kApplication = "signet";
constexpr std::size_t kMaxValueSize = 64 * 1024;  // token stores are small; records are smaller
constexpr std::size_t kLabelSlots = 2;              // see write_label_slot

void add_match(Template& t, std::string_view label) {
  t.add_ulong(CKA_CLASS, CKO_DATA)
      .add_bool(CKA_TOKEN, true)
      .add_bytes(CKA_LABEL, label)
      .add_bytes(CKA_APPLICATION, kApplication);
}

Status check_label(std::string_view label) {
  if (label.empty()) return make_error(Code::kInvalidArgument, "a data object label is empty");
  return ok_status();
}

// A full token has no room for the new object beside the old ones (and tokens commonly keep a
// data object's value read-only): make room first. Should the new value still not fit, the old
// one is put back (unless another writer took the room meanwhile), so a failed write does not
// lose the record. Only a crash in the instant
// between the destroy and the create can; every record Signet keeps survives that (the ring is
// adopted back, a lease or a request is made again, and a lost reservation is bounded by
// retire_grace, as docs/API.md says). Refusing instead would stop issuance on a full token.
Status replace_when_full(SessionRef& session, const std::vector<CK_OBJECT_HANDLE>& old_objects, Template& create,
                         std::string_view label) {
  std::optional<std::string> old_value;
  for (CK_OBJECT_HANDLE object : old_objects) {
    auto value = get_bytes(session, object, CKA_VALUE);
    if (!value.ok() && value.error().code != Code::kNotFound) return value.error();
    if (value.ok() && (!old_value || *value > *old_value)) old_value = std::move(*value);
  }
  for (CK_OBJECT_HANDLE object : old_objects) {
    if (Status destroyed = destroy_object(session, object); !destroyed.ok()) return destroyed;
  }
  CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
  CK_RV rv = session.api.C_CreateObject(session.handle, create.data(), create.size(), &created);
  if (rv == CKR_OK) return ok_status();
  if (old_value) {
    Template restore;
    add_match(restore, label);
    restore.add_bool(CKA_PRIVATE, true).add_bytes(CKA_VALUE, *old_value);
    static_cast<void>(session.api.C_CreateObject(session.handle, restore.data(), restore.size(), &created));
  }
  // The template is the one every write of this record uses, so whatever the token answers now,
  // after making room, is its own trouble and not a bad request: the write may be tried again
  // later (503 with Retry-After for a token request), never an internal error. SoftHSM2's file
  // store, racing a search in another session, has answered CKR_TEMPLATE_INCONSISTENT here.
  Error error = session.fail("C_CreateObject on a full token", rv);
  error.code = Code::kHsmUnavailable;
  return error;
}

}  // namespace

Result<std::string> read_data_object(SessionRef& session, std::string_view label) {
  if (Status valid = check_label(label); !valid.ok()) return valid.error();
  // A writer in another session may replace the object between our search and our read; the
  // new one exists before the old one goes, so a second search finds it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    Template match;
    add_match(match, label);
    auto found = find_objects(session, match);
    if (!found.ok()) return found.error();
    if (found->empty()) {
      return make_error(Code::kNotFound, "no data object labelled '" + std::string(label) + "'");
    }
    // Several objects means a write stopped between its create and its destroy, and either value
    // is a state the writer could have left. Handles are no guide to age (a module numbers the
    // objects it finds at start-up as it likes), so pick by content: the greatest value in byte
    // order. Every process picks the same one, and a caller that starts its record with a
    // fixed-width big-endian sequence number gets the newest.
    std::optional<std::string> best;
    for (CK_OBJECT_HANDLE object : *found) {
      auto value = get_bytes(session, object, CKA_VALUE);
      if (!value.ok() && value.error().code == Code::kNotFound) continue;  // replaced meanwhile
      if (!value.ok()) return value.error();
      if (!best || *value > *best) best = std::move(*value);
    }
    if (best) return std::move(*best);
  }
  return make_error(Code::kHsmUnavailable, "the data object '" + std::string(label) + "' kept changing while read");
}

Status write_data_object(SessionRef& session, std::string_view label, std::string_view value) {
  if (Status valid = check_label(label); !valid.ok()) return valid;
  if (value.size() > kMaxValueSize) {
    return make_error(Code::kInvalidArgument, "a data object holds at most 64 KiB, not " +
                                                  std::to_string(value.size()) + " bytes");
  }
  Template match;
  add_match(match, label);
  auto old_objects = find_objects(session, match);
  if (!old_objects.ok()) return old_objects.error();

  Template create;
  add_match(create, label);
  create.add_bool(CKA_PRIVATE, true).add_bytes(CKA_VALUE, value);
  CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
  CK_RV rv = session.api.C_CreateObject(session.handle, create.data(), create.size(), &created);
  if (rv == CKR_DEVICE_MEMORY && !old_objects->empty()) return replace_when_full(session, *old_objects, create, label);
  if (rv != CKR_OK) return session.fail("C_CreateObject", rv);

  for (CK_OBJECT_HANDLE old_object : *old_objects) {
    if (Status destroyed = destroy_object(session, old_object); !destroyed.ok()) return destroyed;
  }
  return ok_status();
}

Result<std::vector<std::pair<std::string, std::string>>> list_data_objects(SessionRef& session,
                                                                           std::string_view prefix) {
  // An object that vanishes between the search and its read was replaced by a writer whose new
  // object the search may have missed: search again rather than answer without it.
  for (int attempt = 0; attempt < 3; ++attempt) {
    Template match;
    match.add_ulong(CKA_CLASS, CKO_DATA).add_bool(CKA_TOKEN, true).add_bytes(CKA_APPLICATION, kApplication);
    auto found = find_objects(session, match);
    if (!found.ok()) return found.error();
    // One value per label, picked as read_data_object picks among the leftovers of a torn write.
    std::map<std::string, std::string> by_label;
    bool vanished = false;
    for (CK_OBJECT_HANDLE object : *found) {
      auto label = get_bytes(session, object, CKA_LABEL);
      auto value = label.ok() ? get_bytes(session, object, CKA_VALUE) : Result<std::string>(label.error());
      if (!value.ok() && value.error().code == Code::kNotFound) {
        vanished = true;
        break;
      }
      if (!value.ok()) return value.error();
      if (label->compare(0, prefix.size(), prefix) != 0) continue;
      auto [it, inserted] = by_label.emplace(std::move(*label), *value);
      if (!inserted && *value > it->second) it->second = std::move(*value);
    }
    if (!vanished) return std::vector<std::pair<std::string, std::string>>(by_label.begin(), by_label.end());
  }
  return make_error(Code::kHsmUnavailable, "the token's data objects kept changing while listed");
}

namespace {

void add_slot_match(Template& t, std::string_view name) {
  t.add_ulong(CKA_CLASS, CKO_DATA).add_bool(CKA_TOKEN, true).add_bytes(CKA_APPLICATION, name);
}

// The slots of name and their labels; a slot destroyed meanwhile is left out.
Result<std::vector<std::pair<CK_OBJECT_HANDLE, std::string>>> slot_labels(SessionRef& session, std::string_view name) {
  Template match;
  add_slot_match(match, name);
  auto found = find_objects(session, match);
  if (!found.ok()) return found.error();
  std::vector<std::pair<CK_OBJECT_HANDLE, std::string>> slots;
  for (CK_OBJECT_HANDLE object : *found) {
    auto label = get_bytes(session, object, CKA_LABEL);
    if (!label.ok() && label.error().code == Code::kNotFound) continue;
    if (!label.ok()) return label.error();
    slots.emplace_back(object, std::move(*label));
  }
  return slots;
}

// What a token answers when it will not keep this label: the caller then keeps the value
// elsewhere (token_anchor.h).
bool label_refused(CK_RV rv) {
  return rv == CKR_ATTRIBUTE_READ_ONLY || rv == CKR_ACTION_PROHIBITED || rv == CKR_ATTRIBUTE_VALUE_INVALID ||
         rv == CKR_TEMPLATE_INCONSISTENT;
}

Error slot_error(SessionRef& session, std::string_view what, CK_RV rv) {
  Error error = session.fail(what, rv);
  if (label_refused(rv)) error.code = Code::kPermissionDenied;
  return error;
}

}  // namespace

Result<std::vector<std::string>> read_label_slot_objects(SessionRef& session, std::string_view name) {
  if (Status valid = check_label(name); !valid.ok()) return valid.error();
  auto slots = slot_labels(session, name);
  if (!slots.ok()) return slots.error();
  std::vector<std::string> labels;
  for (auto& [object, label] : *slots) labels.push_back(std::move(label));
  return labels;
}

Status write_label_slot_object(SessionRef& session, std::string_view name, std::string_view keep, std::string_view value,
                               KnownSlots& known) {
  if (Status valid = check_label(name); !valid.ok()) return valid;
  // Searched for only when not known: a search walks every object of the token, which costs
  // more than the write itself on a software token.
  for (bool searched = false;; searched = true) {
    if (known.slots.size() < kLabelSlots) {
      auto slots = slot_labels(session, name);
      if (!slots.ok()) return slots.error();
      known.slots = std::move(*slots);
      searched = true;
    }
    if (known.slots.size() < kLabelSlots) {
      // Made once per token (twice in all): every later write modifies one of them in place.
      Template create;
      add_slot_match(create, name);
      create.add_bool(CKA_PRIVATE, true).add_bytes(CKA_LABEL, value);
      CK_OBJECT_HANDLE created = CK_INVALID_HANDLE;
      const CK_RV rv = session.api.C_CreateObject(session.handle, create.data(), create.size(), &created);
      if (rv != CKR_OK) return slot_error(session, "C_CreateObject", rv);
      known.slots.emplace_back(created, std::string(value));
      return ok_status();
    }
    // The slot to overwrite: not the one that holds keep, which must survive a torn write;
    // among the others, the least in byte order (the oldest, for values that sort by age).
    std::pair<CK_OBJECT_HANDLE, std::string>* target = nullptr;
    for (auto& slot : known.slots) {
      if (slot.second == keep) continue;
      if (!target || slot.second < target->second) target = &slot;
    }
    if (!target) target = &known.slots.front();  // every slot holds keep: any of them may go
    Template update;
    update.add_bytes(CKA_LABEL, value);
    const CK_RV rv = session.api.C_SetAttributeValue(session.handle, target->first, update.data(), update.size());
    if (rv == CKR_OK) {
      target->second = std::string(value);
      return ok_status();
    }
    known.slots.clear();
    // A handle the token no longer knows (another process made the slots anew): once more, found again.
    if (rv == CKR_OBJECT_HANDLE_INVALID && !searched) continue;
    return slot_error(session, "C_SetAttributeValue(CKA_LABEL)", rv);
  }
}

Status destroy_data_objects(SessionRef& session, std::string_view label) {
  if (Status valid = check_label(label); !valid.ok()) return valid;
  Template match;
  add_match(match, label);
  return destroy_matching(session, match);
}

}  // namespace signet::hsm

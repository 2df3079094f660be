#include "device/service.h"

#include <gtest/gtest.h>

#include <cctype>

#include "device/test_bed.h"

namespace nj::device {
namespace {

class ServiceTest : public DeviceTestBed {
 protected:
  ServiceTest() {
    EXPECT_TRUE(registry_.add({"CAM-1", "NJ-C1", "", "", "", "", "audio"}));
    EXPECT_TRUE(registry_.add({"CAM-2", "", "", "", "", "", ""}));
  }
};

TEST_F(ServiceTest, ABindTokenBindsOnceWithinTenMinutes) {
  auto token = service_.create_bind_token("alice");
  ASSERT_TRUE(token);
  EXPECT_EQ(token->expires_at, clock_.now_ms() + 10 * 60 * 1000);
  auto bound = service_.claim("CAM-1", token->token);
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_EQ(bound->owner_id.value_or(""), "alice");
  EXPECT_EQ(bound->name, "NJ-C1");
  EXPECT_TRUE(bound->enabled);
  // The same device saying it again is still bound (it repeats until it hears back)...
  EXPECT_TRUE(service_.claim("CAM-1", token->token));
  // ...but the spent token binds no other device.
  EXPECT_EQ(service_.claim("CAM-2", token->token).error().field, "token");
  // Expired: refused.
  auto late = service_.create_bind_token("alice");
  clock_.advance_ms(10 * 60 * 1000 + 1);
  EXPECT_FALSE(service_.claim("CAM-2", late->token));
  EXPECT_FALSE(service_.claim("CAM-2", "made-up"));
  EXPECT_EQ(service_.claim("NOPE", "x").error().code, Errc::kNotFound);
}

TEST_F(ServiceTest, AnotherPersonsDeviceIsNotFoundAndCannotBeTaken) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  EXPECT_EQ(service_.get("bob", id).error().code, Errc::kNotFound);
  EXPECT_EQ(service_.rename("bob", id, "mine now").error().code, Errc::kNotFound);
  EXPECT_EQ(service_.unbind("bob", id, {}).error().code, Errc::kNotFound);
  EXPECT_FALSE(service_.role_by_serial("bob", "CAM-1"));
  EXPECT_EQ(service_.role_by_serial("alice", "CAM-1"), Role::kOwner);
  auto b = service_.create_bind_token("bob");
  EXPECT_EQ(service_.claim("CAM-1", b->token).error().code, Errc::kConflict)
      << "a bound device must be unbound by its owner first";
  EXPECT_TRUE(service_.list("bob").empty());
  ASSERT_EQ(service_.list("alice").size(), 1u);
}

TEST_F(ServiceTest, RenameAndUnbind) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  EXPECT_EQ(service_.rename("alice", id, "Front door")->device.name, "Front door");
  EXPECT_EQ(service_.rename("alice", id, "").error().field, "name");
  EXPECT_EQ(service_.rename("alice", id, std::string(65, 'x')).error().field, "name");
  std::string stopped;
  ASSERT_TRUE(service_.unbind("alice", id, [&](const std::string& s) { stopped = s; }));
  EXPECT_EQ(stopped, "CAM-1");
  auto d = registry_.by_serial("CAM-1");
  EXPECT_FALSE(d->owner_id);
  EXPECT_FALSE(d->enabled) << "its credentials are off until it is bound again";
  EXPECT_EQ(d->name, "");
  EXPECT_TRUE(service_.list("alice").empty());
  // Bound again (by someone else this time), it is enabled again.
  auto c = service_.create_bind_token("carol");
  ASSERT_TRUE(service_.claim("CAM-1", c->token));
  EXPECT_TRUE(registry_.by_serial("CAM-1")->enabled);
}

TEST_F(ServiceTest, ACancelledAccountsTokenBindsNothing) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(db_->execute("UPDATE users SET status = 'cancelled' WHERE id = 'alice'"));
  EXPECT_FALSE(service_.claim("CAM-1", a->token));
  EXPECT_FALSE(registry_.by_serial("CAM-1")->owner_id);
}

TEST_F(ServiceTest, SharingGivesExactlyTheRoleAndRevocationEndsIt) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  std::vector<std::string> mailed;
  service_.set_invite_notifier(
      [&](const std::string& email, const std::string& name, const std::string& from, Role role) {
        mailed.push_back(email + "|" + name + "|" + from + "|" + std::string(role_name(role)));
      });

  // Alice invites Bob as a viewer; until he accepts, he has nothing.
  auto share = service_.share("alice", id, "Bob@Example.com", Role::kViewer);
  ASSERT_TRUE(share) << share.error().message;
  EXPECT_EQ(share->email, "bob@example.com");
  ASSERT_EQ(mailed.size(), 1u);
  EXPECT_EQ(mailed[0], "bob@example.com|NJ-C1|alice@example.com|viewer");
  EXPECT_FALSE(service_.get("bob", id));
  EXPECT_EQ(service_.share("alice", id, "bob@example.com", Role::kFamily).error().code,
            Errc::kConflict);
  EXPECT_EQ(service_.share("alice", id, "not-an-address", Role::kViewer).error().field, "email");
  EXPECT_EQ(service_.share("alice", id, "alice@example.com", Role::kViewer).error().field, "email");
  EXPECT_EQ(service_.share("alice", id, "x@example.com", Role::kOwner).error().field, "role");
  EXPECT_EQ(service_.share("bob", id, "x@example.com", Role::kViewer).error().code,
            Errc::kNotFound);

  // Carol cannot accept Bob's invitation; Bob can, once.
  EXPECT_FALSE(service_.accept("carol", share->id));
  auto invitations = service_.invitations("bob");
  ASSERT_EQ(invitations.size(), 1u);
  EXPECT_EQ(invitations[0].state, "pending");
  ASSERT_TRUE(service_.accept("bob", share->id));
  EXPECT_FALSE(service_.accept("bob", share->id));
  auto seen = service_.get("bob", id);
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->role, Role::kViewer);
  EXPECT_EQ(service_.role_by_serial("bob", "CAM-1"), Role::kViewer);
  ASSERT_EQ(service_.list("bob").size(), 1u);
  // A viewer may watch, not rename, not share, not unbind, not see the shares.
  EXPECT_FALSE(service_.rename("bob", id, "Bob's now"));
  EXPECT_FALSE(service_.share("bob", id, "x@example.com", Role::kViewer));
  EXPECT_FALSE(service_.shares_of("bob", id));
  EXPECT_FALSE(service_.unbind("bob", id, {}));
  ASSERT_EQ(service_.shares_of("alice", id)->size(), 1u);

  // Revoked: gone at once, and whoever had it open is named.
  std::optional<std::string> cut;
  ASSERT_TRUE(service_.revoke("alice", id, share->id,
                              [&](const std::string& serial, const std::optional<std::string>& u) {
                                EXPECT_EQ(serial, "CAM-1");
                                cut = u;
                              }));
  EXPECT_EQ(cut, "bob");
  EXPECT_FALSE(service_.get("bob", id));
  EXPECT_FALSE(service_.role_by_serial("bob", "CAM-1"));
  EXPECT_TRUE(service_.list("bob").empty());
}

TEST_F(ServiceTest, AdminsShareUpToFamilyAndUnbindingEndsEveryShare) {
  auto a = service_.create_bind_token("alice");
  ASSERT_TRUE(service_.claim("CAM-1", a->token));
  const auto id = registry_.by_serial("CAM-1")->id;
  auto to_bob = service_.share("alice", id, "bob@example.com", Role::kAdmin);
  ASSERT_TRUE(service_.accept("bob", to_bob->id));
  EXPECT_EQ(service_.get("bob", id)->role, Role::kAdmin);
  EXPECT_TRUE(service_.rename("bob", id, "Hall")) << "an admin may change settings";
  EXPECT_EQ(service_.share("bob", id, "carol@example.com", Role::kAdmin).error().field, "role");
  auto to_carol = service_.share("bob", id, "carol@example.com", Role::kFamily);
  ASSERT_TRUE(to_carol);
  EXPECT_TRUE(service_.decline("carol", to_carol->id));
  EXPECT_FALSE(service_.get("carol", id));
  // The invitee may leave by themself.
  auto again = service_.share("alice", id, "carol@example.com", Role::kFamily);
  ASSERT_TRUE(service_.accept("carol", again->id));
  EXPECT_TRUE(service_.revoke("carol", id, again->id, {}));
  EXPECT_FALSE(service_.get("carol", id));
  // Unbinding ends Bob's admin share too.
  ASSERT_TRUE(service_.unbind("alice", id, {}));
  EXPECT_FALSE(service_.get("bob", id));
  EXPECT_TRUE(service_.invitations("bob").empty());
}

TEST_F(ServiceTest, AddingByTheLabelsPairingCodeNeedsTheRightCodeAndAnUnboundCamera) {
  const std::string code = registry_.pairing_code("CAM-1");
  ASSERT_EQ(code.size(), 9u);
  EXPECT_EQ(code[4], '-');
  EXPECT_EQ(code, registry_.pairing_code("CAM-1")) << "the label never changes";
  EXPECT_NE(code, registry_.pairing_code("CAM-2"));
  // Wrong code, unknown serial: the same answer.
  const auto wrong = service_.bind_by_code("alice", "CAM-1", "0000-0000");
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::kInvalidInput);
  const auto unknown = service_.bind_by_code("alice", "NOPE", code);
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message, wrong.error().message);
  EXPECT_FALSE(registry_.by_serial("CAM-1")->owner_id);
  // Typed loosely (lower case, no dash, O for 0): still the code.
  std::string typed;
  for (char c : code) {
    if (c == '-') continue;
    typed += c == '0' ? 'o' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  auto bound = service_.bind_by_code("alice", "CAM-1", typed);
  ASSERT_TRUE(bound) << bound.error().message;
  EXPECT_EQ(bound->owner_id, "alice");
  EXPECT_TRUE(bound->enabled);
  EXPECT_TRUE(service_.bind_by_code("alice", "CAM-1", code)) << "again: it is hers already";
  // Someone else with the label: the owner must remove it first.
  const auto taken = service_.bind_by_code("bob", "CAM-1", code);
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().code, Errc::kConflict);
  ASSERT_TRUE(service_.unbind("alice", bound->id, {}));
  EXPECT_TRUE(service_.bind_by_code("bob", "CAM-1", code)) << "resold: the new owner adds it";
}

}  // namespace
}  // namespace nj::device

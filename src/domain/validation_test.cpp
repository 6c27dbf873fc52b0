#include "domain/validation.hpp"

#include <string>
#include <string_view>
#include <vector>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <gtest/gtest.h>

namespace herald::domain {

// gtest prints values of a type through PrintTo found by argument-dependent lookup.
void PrintTo(const InvalidParameter& p, std::ostream* os) {
  *os << "{" << p.name << ": " << p.reason << "}";
}

namespace {

namespace json = boost::json;
using Kind = ValidationKind;

// --- Helpers ---

json::value J(std::string_view text) { return json::parse(text); }

// RFC 7396 JSON merge patch: objects merge recursively, null deletes, anything else replaces.
json::value Merge(json::value target, const json::value& patch) {
  if (!patch.is_object()) return patch;
  if (!target.is_object()) target = json::object();
  json::object& t = target.as_object();
  for (const auto& member : patch.as_object()) {
    if (member.value().is_null()) {
      t.erase(member.key());
    } else {
      json::value current = t.contains(member.key()) ? t.at(member.key()) : json::value();
      t[member.key()] = Merge(std::move(current), member.value());
    }
  }
  return target;
}

json::value Merge(std::string_view base, std::string_view patch) {
  return Merge(J(base), J(patch));
}

std::vector<std::string> Names(const ValidationFailure& failure) {
  std::vector<std::string> names;
  for (const auto& p : failure.invalid_parameters) names.push_back(p.name);
  return names;
}

std::string Describe(const ValidationFailure& failure) {
  std::string out;
  for (const auto& p : failure.invalid_parameters) out += "\n  " + p.name + ": " + p.reason;
  return out;
}

std::string Repeat(std::string_view unit, size_t n) {
  std::string out;
  out.reserve(unit.size() * n);
  for (size_t i = 0; i < n; ++i) out += unit;
  return out;
}

// --- One valid body per channel and message type ---

// Contract §3.1, verbatim.
constexpr std::string_view kSms =
    R"({"to":"447700900001","from":"Vonage","channel":"sms","message_type":"text","text":"Hello from Vonage!"})";

constexpr std::string_view kMmsText =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"text","text":"Hi"})";
constexpr std::string_view kMmsImage =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"image","image":{"url":"https://example.com/image.jpg","caption":"A picture"}})";
constexpr std::string_view kMmsVcard =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"vcard","vcard":{"url":"https://example.com/contact.vcf"}})";
constexpr std::string_view kMmsAudio =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"audio","audio":{"url":"https://example.com/audio.mp3"}})";
constexpr std::string_view kMmsVideo =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"video","video":{"url":"https://example.com/video.mp4","caption":"Watch"}})";
constexpr std::string_view kMmsFile =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"file","file":{"url":"https://example.com/file.pdf"}})";
constexpr std::string_view kMmsContent =
    R"({"to":"14155550100","from":"14155550101","channel":"mms","message_type":"content","content":[{"type":"image","url":"https://example.com/a.jpg","caption":"A"},{"type":"file","url":"https://example.com/b.pdf"}]})";

constexpr std::string_view kRcsText =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"text","text":"Hello"})";
constexpr std::string_view kRcsImage =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"image","image":{"url":"https://example.com/image.jpg"}})";
constexpr std::string_view kRcsVideo =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"video","video":{"url":"https://example.com/video.mp4"}})";
constexpr std::string_view kRcsFile =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"file","file":{"url":"https://example.com/file.pdf"}})";
constexpr std::string_view kRcsCustom =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"custom","custom":{"contentMessage":{"text":"hi"}}})";
constexpr std::string_view kRcsCard =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"card","card":{"title":"Title","text":"Text","media_url":"https://example.com/image.jpg","media_height":"SHORT"}})";
constexpr std::string_view kRcsCarousel =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"carousel","carousel":{"cards":[
        {"title":"One","text":"First","media_url":"https://example.com/1.jpg","media_height":"MEDIUM"},
        {"title":"Two","text":"Second","media_url":"https://example.com/2.jpg","media_height":"TALL"}]}})";

constexpr std::string_view kWaText =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"text","text":"Hello"})";
constexpr std::string_view kWaImage =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"image","image":{"url":"https://example.com/image.jpg","caption":"Look"}})";
constexpr std::string_view kWaAudio =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"audio","audio":{"url":"https://example.com/audio.mp3"}})";
constexpr std::string_view kWaVideo =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"video","video":{"url":"https://example.com/video.mp4"}})";
constexpr std::string_view kWaFile =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"file","file":{"url":"https://example.com/file.pdf","name":"file.pdf"}})";
constexpr std::string_view kWaTemplate =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"template","template":{"name":"verify","parameters":["Verification","2526","5"]},"whatsapp":{"policy":"deterministic","locale":"en_US"}})";
constexpr std::string_view kWaStickerUrl =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"sticker","sticker":{"url":"https://example.com/image.webp"}})";
constexpr std::string_view kWaStickerId =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"sticker","sticker":{"id":"aabb7a31-1d1f-4755-a574-2971d831cd5b"}})";
constexpr std::string_view kWaReaction =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"reaction","reaction":{"action":"react","emoji":"😀"},"context":{"message_uuid":"a1b2c3d4a1b2c3d4"}})";
constexpr std::string_view kWaCustom =
    R"({"to":"447700900000","from":"447700900001","channel":"whatsapp","message_type":"custom","custom":{"type":"interactive"}})";

constexpr std::string_view kMsText =
    R"({"to":"0123456789","from":"9876543210","channel":"messenger","message_type":"text","text":"Hi"})";
constexpr std::string_view kMsImage =
    R"({"to":"0123456789","from":"9876543210","channel":"messenger","message_type":"image","image":{"url":"https://example.com/image.jpg"}})";
constexpr std::string_view kMsAudio =
    R"({"to":"0123456789","from":"9876543210","channel":"messenger","message_type":"audio","audio":{"url":"https://example.com/audio.mp3"}})";
constexpr std::string_view kMsVideo =
    R"({"to":"0123456789","from":"9876543210","channel":"messenger","message_type":"video","video":{"url":"https://example.com/video.mp4"}})";
constexpr std::string_view kMsFile =
    R"({"to":"0123456789","from":"9876543210","channel":"messenger","message_type":"file","file":{"url":"https://example.com/file.zip"}})";

constexpr std::string_view kViberText =
    R"({"to":"447700900000","from":"ViberService","channel":"viber_service","message_type":"text","text":"Hi"})";
constexpr std::string_view kViberImage =
    R"({"to":"447700900000","from":"ViberService","channel":"viber_service","message_type":"image","image":{"url":"https://example.com/image.jpg"}})";
constexpr std::string_view kViberVideo =
    R"({"to":"447700900000","from":"ViberService","channel":"viber_service","message_type":"video","video":{"url":"https://example.com/video.mp4","thumb_url":"https://example.com/thumb.jpg"},"viber_service":{"duration":"123","file_size":"1"}})";
constexpr std::string_view kViberFile =
    R"({"to":"447700900000","from":"ViberService","channel":"viber_service","message_type":"file","file":{"url":"https://example.com/files/","name":"example.pdf"}})";

// --- The table ---

struct Case {
  std::string name;
  json::value body;
  std::vector<std::string>
      invalid;  // the expected invalid_parameters names, in order; empty: valid
  Kind kind = Kind::kInvalidParams;  // the expected category when invalid
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

Case Ok(std::string name, std::string_view base, std::string_view patch = "{}") {
  return {std::move(name), Merge(base, patch), {}, Kind::kInvalidParams};
}

Case Bad(std::string name, std::string_view base, std::string_view patch,
         std::vector<std::string> invalid, Kind kind = Kind::kInvalidParams) {
  return {std::move(name), Merge(base, patch), std::move(invalid), kind};
}

Case BadBody(std::string name, json::value body, std::vector<std::string> invalid,
             Kind kind = Kind::kInvalidParams) {
  return {std::move(name), std::move(body), std::move(invalid), kind};
}

std::vector<Case> SmsCases() {
  return {
      Ok("sms_contract_example", kSms),
      Ok("sms_every_option", kSms,
         R"({"ttl":600,"sms":{"encoding_type":"unicode","content_id":"1107457532145798767","entity_id":"1101456324675322134","pool_id":"abc123"},
             "client_ref":"abc123","webhook_url":"https://example.com/status","webhook_version":"v1",
             "trusted_recipient":true,"trusted_sender":false})"),
      Ok("sms_numeric_sender", kSms, R"({"from":"447700900002"})"),
      Ok("sms_short_code_sender", kSms, R"({"from":"12345"})"),
      Ok("sms_alphanumeric_sender_with_space", kSms, R"({"from":"My Shop"})"),
      Bad("sms_image_type", kSms,
          R"({"message_type":"image","image":{"url":"https://example.com/a.jpg"}})",
          {"message_type"}, Kind::kInvalidMessageType),
      Bad("sms_unknown_type", kSms, R"({"message_type":"gif"})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("sms_missing_type", kSms, R"({"message_type":null})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("sms_to_with_plus", kSms, R"({"to":"+447700900001"})", {"to"}, Kind::kInvalidRecipient),
      Bad("sms_to_with_00", kSms, R"({"to":"00447700900001"})", {"to"}, Kind::kInvalidRecipient),
      Bad("sms_to_with_letters", kSms, R"({"to":"44770090000a"})", {"to"}, Kind::kInvalidRecipient),
      Bad("sms_to_as_number", kSms, R"({"to":447700900001})", {"to"}, Kind::kInvalidRecipient),
      Bad("sms_to_missing", kSms, R"({"to":null})", {"to"}, Kind::kInvalidRecipient),
      Bad("sms_from_missing", kSms, R"({"from":null})", {"from"}, Kind::kInvalidSender),
      Bad("sms_from_empty", kSms, R"({"from":""})", {"from"}, Kind::kInvalidSender),
      Bad("sms_from_with_plus", kSms, R"({"from":"+447700900002"})", {"from"},
          Kind::kInvalidSender),
      Bad("sms_from_not_ascii", kSms, R"({"from":"Vönage"})", {"from"}, Kind::kInvalidSender),
      Bad("sms_text_missing", kSms, R"({"text":null})", {"text"}),
      Bad("sms_text_empty", kSms, R"({"text":""})", {"text"}),
      Bad("sms_text_number", kSms, R"({"text":5})", {"text"}),
      Bad("sms_text_object", kSms, R"({"text":{"body":"x"}})", {"text"}),
      Bad("sms_ttl_string", kSms, R"({"ttl":"600"})", {"ttl"}),
      Bad("sms_ttl_fraction", kSms, R"({"ttl":600.5})", {"ttl"}),
      Bad("sms_ttl_negative", kSms, R"({"ttl":-1})", {"ttl"}),
      Bad("sms_ttl_huge", kSms, R"({"ttl":18446744073709551615})", {"ttl"}),
      Bad("sms_encoding_type", kSms, R"({"sms":{"encoding_type":"ucs2"}})", {"sms.encoding_type"},
          Kind::kInvalidChannelParams),
      Bad("sms_options_not_object", kSms, R"({"sms":"unicode"})", {"sms"},
          Kind::kInvalidChannelParams),
      Bad("sms_pool_id_number", kSms, R"({"sms":{"pool_id":7}})", {"sms.pool_id"},
          Kind::kInvalidChannelParams),
      Bad("sms_trusted_recipient_string", kSms, R"({"trusted_recipient":"yes"})",
          {"trusted_recipient"}),
      Bad("sms_trusted_sender_number", kSms, R"({"trusted_sender":1})", {"trusted_sender"}),
  };
}

std::vector<Case> MmsCases() {
  return {
      Ok("mms_text", kMmsText),
      Ok("mms_image", kMmsImage),
      Ok("mms_vcard", kMmsVcard),
      Ok("mms_audio", kMmsAudio),
      Ok("mms_video", kMmsVideo),
      Ok("mms_file", kMmsFile),
      Ok("mms_content", kMmsContent),
      Ok("mms_group_and_ttl", kMmsText, R"({"ttl":300,"mms":{"participants":["447700900002"]}})"),
      Ok("mms_long_text_has_no_limit", kMmsText, R"({"text":")" + Repeat("x", 10000) + R"("})"),
      Bad("mms_image_without_url", kMmsImage, R"({"image":{"url":null}})", {"image.url"}),
      Bad("mms_image_missing", kMmsImage, R"({"image":null})", {"image"}),
      Bad("mms_image_not_object", kMmsImage, R"({"image":"https://example.com/a.jpg"})", {"image"}),
      Bad("mms_image_ftp_url", kMmsImage, R"({"image":{"url":"ftp://example.com/a.jpg"}})",
          {"image.url"}),
      Bad("mms_image_empty_caption", kMmsImage, R"({"image":{"caption":""}})", {"image.caption"}),
      Bad("mms_vcard_relative_url", kMmsVcard, R"({"vcard":{"url":"/contact.vcf"}})",
          {"vcard.url"}),
      Bad("mms_audio_url_number", kMmsAudio, R"({"audio":{"url":42}})", {"audio.url"}),
      Bad("mms_video_caption_number", kMmsVideo, R"({"video":{"caption":1}})", {"video.caption"}),
      Bad("mms_file_missing", kMmsFile, R"({"file":null})", {"file"}),
      Bad("mms_template_type", kMmsText, R"({"message_type":"template"})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("mms_content_empty", kMmsContent, R"({"content":[]})", {"content"}),
      Bad("mms_content_not_array", kMmsContent, R"({"content":{"type":"image"}})", {"content"}),
      Bad("mms_content_items", kMmsContent,
          R"({"content":[{"type":"gif","url":"https://example.com/a.gif"},"x",{"type":"image"},{"url":"https://example.com/b.jpg","caption":""}]})",
          {"content[0].type", "content[1]", "content[2].url", "content[3].type",
           "content[3].caption"}),
      Bad("mms_ttl_below_min", kMmsText, R"({"ttl":299})", {"ttl"}),
      Bad("mms_alphanumeric_sender", kMmsText, R"({"from":"Vonage"})", {"from"},
          Kind::kInvalidSender),
      Bad("mms_to_too_short", kMmsText, R"({"to":"123456"})", {"to"}, Kind::kInvalidRecipient),
      Bad("mms_participants", kMmsText,
          R"({"mms":{"participants":["+447700900002",7,"447700900003"]}})",
          {"mms.participants[0]", "mms.participants[1]"}, Kind::kInvalidChannelParams),
      Bad("mms_participants_not_array", kMmsText, R"({"mms":{"participants":"447700900002"}})",
          {"mms.participants"}, Kind::kInvalidChannelParams),
  };
}

std::vector<Case> RcsCases() {
  return {
      Ok("rcs_text", kRcsText),
      Ok("rcs_text_every_suggestion", kRcsText, R"({"suggestions":[
          {"type":"reply","text":"Yes","postback_data":"question_1_yes"},
          {"type":"dial","text":"Call","postback_data":"d","phone_number":"+14155550100","fallback_url":"https://example.com/contact"},
          {"type":"view_location","text":"Map","postback_data":"v","latitude":"37.7749","longitude":"-122.4194","pin_label":"Vonage"},
          {"type":"share_location","text":"Share","postback_data":"s"},
          {"type":"open_url","text":"Open","postback_data":"o","url":"https://example.com","description":"Example"},
          {"type":"open_url_in_webview","text":"Web","postback_data":"w","url":"https://example.com","description":"Example","view_mode":"HALF"},
          {"type":"create_calendar_event","text":"Save","postback_data":"c","start_time":"2023-01-01T10:00:00Z","end_time":"2023-01-01T11:00:00.5+01:00","title":"Party","description":"Celebrate"}]})"),
      Ok("rcs_image", kRcsImage),
      Ok("rcs_video", kRcsVideo),
      Ok("rcs_file", kRcsFile),
      Ok("rcs_custom", kRcsCustom),
      Ok("rcs_card_vertical", kRcsCard,
         R"({"rcs":{"card_orientation":"VERTICAL","category":"promotion"},"card":{"media_description":"d","thumbnail_url":"https://example.com/t.jpg","media_force_refresh":false,
             "suggestions":[{"type":"reply","text":"A","postback_data":"a"}]}})"),
      Ok("rcs_card_horizontal_needs_no_media_height", kRcsCard,
         R"({"card":{"media_height":null},"rcs":{"card_orientation":"HORIZONTAL","image_alignment":"LEFT"}})"),
      Ok("rcs_carousel", kRcsCarousel,
         R"({"rcs":{"card_width":"SMALL"},"suggestions":[{"type":"reply","text":"More","postback_data":"m"}]})"),
      Ok("rcs_ttl_and_category", kRcsText, R"({"ttl":259200,"rcs":{"category":"transaction"}})"),
      Bad("rcs_sender_with_space", kRcsText, R"({"from":"Von age"})", {"from"},
          Kind::kInvalidSender),
      Bad("rcs_audio_type", kRcsText,
          R"({"message_type":"audio","audio":{"url":"https://example.com/a.mp3"}})",
          {"message_type"}, Kind::kInvalidMessageType),
      Bad("rcs_ttl_above_max", kRcsText, R"({"ttl":259201})", {"ttl"}),
      Bad("rcs_category", kRcsText, R"({"rcs":{"category":"marketing"}})", {"rcs.category"},
          Kind::kInvalidChannelParams),
      Bad("rcs_custom_not_object", kRcsCustom, R"({"custom":"x"})", {"custom"}),
      Bad("rcs_image_missing_url", kRcsImage, R"({"image":{"url":null}})", {"image.url"}),
      Bad("rcs_card_without_media_height", kRcsCard, R"({"card":{"media_height":null}})",
          {"card.media_height"}),
      Bad("rcs_card_bad_media_height", kRcsCard, R"({"card":{"media_height":"HUGE"}})",
          {"card.media_height"}),
      Bad("rcs_card_horizontal_without_alignment", kRcsCard,
          R"({"rcs":{"card_orientation":"HORIZONTAL"}})", {"rcs.image_alignment"},
          Kind::kInvalidChannelParams),
      Bad("rcs_card_bad_orientation", kRcsCard, R"({"rcs":{"card_orientation":"DIAGONAL"}})",
          {"rcs.card_orientation"}, Kind::kInvalidChannelParams),
      Bad("rcs_card_missing_fields", kRcsCard,
          R"({"card":{"title":null,"text":null,"media_url":null}})",
          {"card.title", "card.text", "card.media_url"}),
      Bad("rcs_card_bad_types", kRcsCard,
          R"({"card":{"thumbnail_url":"x","media_force_refresh":"no"}})",
          {"card.thumbnail_url", "card.media_force_refresh"}),
      Bad("rcs_card_five_suggestions", kRcsCard, R"({"card":{"suggestions":[
          {"type":"reply","text":"1","postback_data":"1"},{"type":"reply","text":"2","postback_data":"2"},
          {"type":"reply","text":"3","postback_data":"3"},{"type":"reply","text":"4","postback_data":"4"},
          {"type":"reply","text":"5","postback_data":"5"}]}})",
          {"card.suggestions"}),
      Bad("rcs_card_missing", kRcsCard, R"({"card":null})", {"card"}),
      Bad("rcs_carousel_one_card", kRcsCarousel,
          R"({"carousel":{"cards":[{"title":"One","text":"First","media_url":"https://example.com/1.jpg","media_height":"SHORT"}]}})",
          {"carousel.cards"}),
      Bad("rcs_carousel_without_cards", kRcsCarousel, R"({"carousel":{"cards":null}})",
          {"carousel.cards"}),
      Bad("rcs_carousel_card_errors", kRcsCarousel,
          R"({"carousel":{"cards":[{"title":"One","text":"First","media_url":"https://example.com/1.jpg"},7]}})",
          {"carousel.cards[0].media_height", "carousel.cards[1]"}),
      Bad("rcs_carousel_horizontal", kRcsCarousel, R"({"rcs":{"card_orientation":"HORIZONTAL"}})",
          {"rcs.card_orientation"}, Kind::kInvalidChannelParams),
      Bad("rcs_carousel_card_width", kRcsCarousel, R"({"rcs":{"card_width":"LARGE"}})",
          {"rcs.card_width"}, Kind::kInvalidChannelParams),
      Bad("rcs_suggestions_not_array", kRcsText, R"({"suggestions":{"type":"reply"}})",
          {"suggestions"}),
      // The developer portal's card example uses "suggested_reply"; the schema says "reply".
      Bad("rcs_suggestion_unknown_type", kRcsText,
          R"({"suggestions":[{"type":"suggested_reply","text":"Yes","postback_data":"y"}]})",
          {"suggestions[0].type"}),
      Bad("rcs_suggestion_missing_everything", kRcsText, R"({"suggestions":[{}]})",
          {"suggestions[0].type", "suggestions[0].text", "suggestions[0].postback_data"}),
      Bad("rcs_suggestion_action_fields", kRcsText, R"({"suggestions":[
          {"type":"dial","text":"Call","postback_data":"d","phone_number":"0123"},
          {"type":"view_location","text":"Map","postback_data":"v","latitude":"91","longitude":"east"},
          {"type":"open_url","text":"Open","postback_data":"o","url":"mailto:a@example.com"},
          {"type":"open_url_in_webview","text":"Web","postback_data":"w","url":"https://example.com","description":"","view_mode":"SMALL"},
          {"type":"create_calendar_event","text":"Save","postback_data":"c","start_time":"tomorrow","end_time":"2023-13-01T11:00:00Z","title":"","description":"d","fallback_url":"x"}]})",
          {"suggestions[0].phone_number", "suggestions[1].latitude", "suggestions[1].longitude",
           "suggestions[1].pin_label", "suggestions[2].url", "suggestions[2].description",
           "suggestions[3].description", "suggestions[3].view_mode", "suggestions[4].start_time",
           "suggestions[4].end_time", "suggestions[4].title", "suggestions[4].fallback_url"}),
  };
}

std::vector<Case> WhatsappCases() {
  return {
      Ok("whatsapp_text", kWaText),
      Ok("whatsapp_text_to_bsuid", kWaText, R"({"to":"US.13491208655302741918"})"),
      Ok("whatsapp_text_with_context", kWaText, R"({"context":{"message_uuid":"a1b2c3d4"}})"),
      Ok("whatsapp_image", kWaImage),
      Ok("whatsapp_audio", kWaAudio),
      Ok("whatsapp_video", kWaVideo),
      Ok("whatsapp_file", kWaFile),
      Ok("whatsapp_template", kWaTemplate),
      Ok("whatsapp_template_without_parameters_or_policy", kWaTemplate,
         R"({"template":{"parameters":null},"whatsapp":{"policy":null,"locale":"pt_BR"}})"),
      Ok("whatsapp_sticker_url", kWaStickerUrl),
      Ok("whatsapp_sticker_id", kWaStickerId),
      Ok("whatsapp_reaction", kWaReaction),
      Ok("whatsapp_unreaction", kWaReaction, R"({"reaction":{"action":"unreact","emoji":null}})"),
      Ok("whatsapp_custom", kWaCustom),
      Bad("whatsapp_card_type", kWaText, R"({"message_type":"card"})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("whatsapp_to_not_a_number", kWaText, R"({"to":"not-a-number"})", {"to"},
          Kind::kInvalidRecipient),
      Bad("whatsapp_to_lowercase_bsuid", kWaText, R"({"to":"us.13491208655302741918"})", {"to"},
          Kind::kInvalidRecipient),
      Bad("whatsapp_to_bsuid_without_id", kWaText, R"({"to":"US."})", {"to"},
          Kind::kInvalidRecipient),
      Bad("whatsapp_alphanumeric_sender", kWaText, R"({"from":"Vonage"})", {"from"},
          Kind::kInvalidSender),
      Bad("whatsapp_has_no_ttl", kWaText, R"({"ttl":60})", {"ttl"}),
      Bad("whatsapp_context_without_uuid", kWaText, R"({"context":{}})", {"context.message_uuid"}),
      Bad("whatsapp_image_caption_number", kWaImage, R"({"image":{"caption":5}})",
          {"image.caption"}),
      Bad("whatsapp_audio_url_too_short", kWaAudio, R"({"audio":{"url":"http://a."}})",
          {"audio.url"}),
      Bad("whatsapp_template_without_whatsapp", kWaTemplate, R"({"whatsapp":null})", {"whatsapp"},
          Kind::kInvalidChannelParams),
      Bad("whatsapp_template_without_locale", kWaTemplate, R"({"whatsapp":{"locale":null}})",
          {"whatsapp.locale"}, Kind::kInvalidChannelParams),
      Bad("whatsapp_template_bad_locale_and_policy", kWaTemplate,
          R"({"whatsapp":{"locale":"english","policy":"fallback"}})",
          {"whatsapp.locale", "whatsapp.policy"}, Kind::kInvalidChannelParams),
      Bad("whatsapp_template_without_name", kWaTemplate, R"({"template":{"name":null}})",
          {"template.name"}),
      Bad("whatsapp_template_parameters", kWaTemplate,
          R"({"template":{"parameters":["a",1,"c",null]}})",
          {"template.parameters[1]", "template.parameters[3]"}),
      Bad("whatsapp_template_missing", kWaTemplate, R"({"template":null})", {"template"}),
      Bad("whatsapp_sticker_both", kWaStickerUrl, R"({"sticker":{"id":"abc"}})", {"sticker"}),
      Bad("whatsapp_sticker_neither", kWaStickerUrl, R"({"sticker":{"url":null}})", {"sticker"}),
      Bad("whatsapp_sticker_bad_url", kWaStickerUrl, R"({"sticker":{"url":"image.webp"}})",
          {"sticker.url"}),
      Bad("whatsapp_reaction_without_context", kWaReaction, R"({"context":null})", {"context"}),
      Bad("whatsapp_react_without_emoji", kWaReaction, R"({"reaction":{"emoji":null}})",
          {"reaction.emoji"}),
      Bad("whatsapp_reaction_bad_action", kWaReaction, R"({"reaction":{"action":"like"}})",
          {"reaction.action"}),
      Bad("whatsapp_custom_missing", kWaCustom, R"({"custom":null})", {"custom"}),
  };
}

std::vector<Case> MessengerCases() {
  return {
      Ok("messenger_text", kMsText),
      Ok("messenger_image", kMsImage),
      Ok("messenger_audio", kMsAudio),
      Ok("messenger_video", kMsVideo),
      Ok("messenger_file", kMsFile),
      Ok("messenger_message_tag", kMsText,
         R"({"messenger":{"category":"message_tag","tag":"CONFIRMED_EVENT_UPDATE"}})"),
      Ok("messenger_update", kMsText, R"({"messenger":{"category":"update"}})"),
      Bad("messenger_template_type", kMsText, R"({"message_type":"template"})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("messenger_tag_required", kMsText, R"({"messenger":{"category":"message_tag"}})",
          {"messenger.tag"}, Kind::kInvalidChannelParams),
      Bad("messenger_category", kMsText, R"({"messenger":{"category":"promo"}})",
          {"messenger.category"}, Kind::kInvalidChannelParams),
      Bad("messenger_empty_ids", kMsText, R"({"to":"","from":""})", {"to", "from"},
          Kind::kInvalidRecipient),
      Bad("messenger_has_no_ttl", kMsText, R"({"ttl":60})", {"ttl"}),
      Bad("messenger_audio_url_too_short", kMsAudio, R"({"audio":{"url":"http://a"}})",
          {"audio.url"}),
      Bad("messenger_video_missing", kMsVideo, R"({"video":null})", {"video"}),
  };
}

std::vector<Case> ViberCases() {
  return {
      Ok("viber_text", kViberText),
      Ok("viber_text_every_option", kViberText,
         R"({"viber_service":{"category":"promotion","ttl":600,"type":"string","action":{"url":"https://example.com/page1.html","text":"Find out more"}}})"),
      Ok("viber_image", kViberImage),
      Ok("viber_image_with_button", kViberImage,
         R"({"image":{"caption":"Promotion"},"viber_service":{"action":{"url":"https://example.com","text":"Go"}}})"),
      Ok("viber_video", kViberVideo),
      Ok("viber_file", kViberFile),
      Bad("viber_audio_type", kViberText, R"({"message_type":"audio"})", {"message_type"},
          Kind::kInvalidMessageType),
      Bad("viber_to_bsuid", kViberText, R"({"to":"US.13491208655302741918"})", {"to"},
          Kind::kInvalidRecipient),
      // A Viber bot subscriber id (docs/connectors/viber.md).
      Ok("viber_to_user_id", kViberText, R"({"to":"jc9HsWTZ2Yf2NkRZ8KcNug=="})"),
      Ok("viber_to_user_id_short", kViberText, R"({"to":"01234567890A="})"),
      Bad("viber_to_short_number", kViberText, R"({"to":"12345"})", {"to"},
          Kind::kInvalidRecipient),
      Bad("viber_to_user_id_space", kViberText, R"({"to":"jc9HsWTZ 2Yf2NkRZ8KcNug=="})", {"to"},
          Kind::kInvalidRecipient),
      Bad("viber_to_user_id_too_long", kViberText, R"({"to":")" + std::string(51, 'A') + R"("})",
          {"to"}, Kind::kInvalidRecipient),
      Bad("viber_top_level_ttl", kViberText, R"({"ttl":600})", {"ttl"}),
      Bad("viber_category", kViberText, R"({"viber_service":{"category":"marketing"}})",
          {"viber_service.category"}, Kind::kInvalidChannelParams),
      Bad("viber_ttl_string", kViberText, R"({"viber_service":{"ttl":"600"}})",
          {"viber_service.ttl"}, Kind::kInvalidChannelParams),
      Bad("viber_action_incomplete", kViberText, R"({"viber_service":{"action":{"text":"Go"}}})",
          {"viber_service.action.url"}, Kind::kInvalidChannelParams),
      Bad("viber_image_button_needs_caption", kViberImage,
          R"({"viber_service":{"action":{"url":"https://example.com","text":"Go"}}})",
          {"image.caption"}),
      Bad("viber_video_without_thumb", kViberVideo, R"({"video":{"thumb_url":null}})",
          {"video.thumb_url"}),
      Bad("viber_video_without_options", kViberVideo, R"({"viber_service":null})",
          {"viber_service"}, Kind::kInvalidChannelParams),
      Bad("viber_video_bad_duration_and_size", kViberVideo,
          R"({"viber_service":{"duration":10,"file_size":"1.5"}})",
          {"viber_service.duration", "viber_service.file_size"}, Kind::kInvalidChannelParams),
      Bad("viber_video_missing_duration_and_size", kViberVideo,
          R"({"viber_service":{"duration":null,"file_size":null}})",
          {"viber_service.duration", "viber_service.file_size"}, Kind::kInvalidChannelParams),
      Bad("viber_file_without_url", kViberFile, R"({"file":{"url":null}})", {"file.url"}),
  };
}

std::vector<Case> CommonCases() {
  return {
      Bad("email_is_unsupported", kSms, R"({"channel":"email"})", {"channel"},
          Kind::kUnsupportedChannel),
      Bad("unknown_channel_skips_content", kSms, R"({"channel":"pigeon","text":null})", {"channel"},
          Kind::kUnsupportedChannel),
      Bad("channel_missing", kSms, R"({"channel":null})", {"channel"}, Kind::kUnsupportedChannel),
      Bad("channel_not_string", kSms, R"({"channel":["sms"]})", {"channel"},
          Kind::kUnsupportedChannel),
      Bad("channel_is_case_sensitive", kSms, R"({"channel":"SMS"})", {"channel"},
          Kind::kUnsupportedChannel),
      Bad("unknown_channel_and_type", kSms, R"({"channel":"pigeon","message_type":"gif"})",
          {"channel", "message_type"}, Kind::kUnsupportedChannel),
      Bad("unknown_channel_still_checks_addresses", kSms,
          R"({"channel":"pigeon","to":"","from":7})", {"channel", "to", "from"},
          Kind::kUnsupportedChannel),
      Ok("webhook_url_upper_case_scheme_and_port", kSms,
         R"({"webhook_url":"HTTPS://example.com:8443/status?x=1#f"})"),
      Ok("webhook_url_ipv6_and_userinfo", kSms, R"({"webhook_url":"http://user@[::1]:8080/cb"})"),
      Bad("webhook_url_ftp", kSms, R"({"webhook_url":"ftp://example.com/status"})",
          {"webhook_url"}),
      Bad("webhook_url_relative", kSms, R"({"webhook_url":"/status"})", {"webhook_url"}),
      Bad("webhook_url_without_host", kSms, R"({"webhook_url":"https:///status"})",
          {"webhook_url"}),
      Bad("webhook_url_bad_port", kSms, R"({"webhook_url":"https://example.com:99999/status"})",
          {"webhook_url"}),
      Bad("webhook_url_space", kSms, R"({"webhook_url":"https://exa mple.com/status"})",
          {"webhook_url"}),
      Bad("webhook_url_number", kSms, R"({"webhook_url":80})", {"webhook_url"}),
      Ok("webhook_version_v0_1", kSms, R"({"webhook_version":"v0.1"})"),
      Bad("webhook_version_v2", kSms, R"({"webhook_version":"v2"})", {"webhook_version"}),
      Ok("client_ref_empty", kSms, R"({"client_ref":""})"),
      Bad("client_ref_number", kSms, R"({"client_ref":5})", {"client_ref"},
          Kind::kInvalidClientRef),
      Ok("unknown_fields_are_ignored", kSms, R"({"x_future_option":{"a":1}})"),
      BadBody("body_array", J("[1]"), {"body"}),
      BadBody("body_string", J(R"("hello")"), {"body"}),
      BadBody("body_null", J("null"), {"body"}),
      BadBody("body_empty_object", J("{}"), {"channel", "message_type", "to", "from"},
              Kind::kUnsupportedChannel),
  };
}

std::vector<Case> AllCases() {
  std::vector<Case> all;
  for (auto* group : {&SmsCases, &MmsCases, &RcsCases, &WhatsappCases, &MessengerCases, &ViberCases,
                      &CommonCases}) {
    for (Case& c : group()) all.push_back(std::move(c));
  }
  return all;
}

class ValidationTableTest : public ::testing::TestWithParam<Case> {};

TEST_P(ValidationTableTest, ReportsExactlyTheInvalidFields) {
  const Case& c = GetParam();
  const auto result = ValidateSendRequest(c.body);
  if (c.invalid.empty()) {
    ASSERT_TRUE(result) << json::serialize(c.body) << Describe(result.error());
    ASSERT_EQ(result->items.size(), 1u);
    const OutboundMessage& m = result->items[0];
    const json::object& body = c.body.as_object();
    EXPECT_EQ(ChannelName(m.channel), body.at("channel").as_string());
    EXPECT_EQ(m.message_type, body.at("message_type").as_string());
    EXPECT_EQ(m.to, body.at("to").as_string());
    EXPECT_EQ(m.from, body.at("from").as_string());
    EXPECT_EQ(json::value(m.payload), c.body);
    return;
  }
  ASSERT_FALSE(result) << json::serialize(c.body);
  EXPECT_EQ(Names(result.error()), c.invalid) << Describe(result.error());
  EXPECT_EQ(result.error().kind, c.kind) << Describe(result.error());
  for (const InvalidParameter& p : result.error().invalid_parameters) {
    ASSERT_FALSE(p.reason.empty()) << p.name;
    EXPECT_EQ(p.reason.back(), '.') << p.name << ": " << p.reason;
  }
}

INSTANTIATE_TEST_SUITE_P(AllChannels, ValidationTableTest, ::testing::ValuesIn(AllCases()),
                         [](const ::testing::TestParamInfo<Case>& param_info) {
                           return param_info.param.name;
                         });

// --- Every problem, with its reason ---

TEST(ValidationTest, ReportsEveryProblemInFieldOrderAndTheFirstDecidesTheKind) {
  const json::value body = Merge(kSms, R"({"to":"12","from":"","text":null,"ttl":5,
      "sms":{"encoding_type":"ascii"},"webhook_url":"example.com","webhook_version":"v9",
      "client_ref":")" + std::string(101, 'r') +
                                           R"(","trusted_recipient":"true"})");
  const auto result = ValidateSendRequest(body);
  ASSERT_FALSE(result);
  const std::vector<InvalidParameter> expected{
      {"to", "must be an E.164 number: 7 to 15 digits starting with the country code, no + or 00."},
      {"from", "must not be empty."},
      {"text", "is required."},
      {"sms.encoding_type", "must be one of: text, unicode, auto."},
      {"ttl", "must be between 20 and 604800."},
      {"client_ref", "must be at most 100 characters."},
      {"webhook_url", "must be an absolute http or https URL."},
      {"webhook_version", "must be one of: v0.1, v1."},
      {"trusted_recipient", "must be a boolean."},
  };
  EXPECT_EQ(result.error().invalid_parameters, expected) << Describe(result.error());
  EXPECT_EQ(result.error().kind, Kind::kInvalidRecipient);
}

TEST(ValidationTest, ChannelAndMessageTypeReasons) {
  auto first = [](const json::value& body) {
    const auto result = ValidateSendRequest(body);
    return result ? InvalidParameter{} : result.error().invalid_parameters.at(0);
  };
  EXPECT_EQ(first(Merge(kSms, R"({"channel":"email"})")),
            (InvalidParameter{"channel", "email is not supported by this server."}));
  EXPECT_EQ(first(Merge(kSms, R"({"channel":"fax"})")),
            (InvalidParameter{"channel",
                              "must be one of: sms, mms, rcs, whatsapp, messenger, "
                              "viber_service."}));
  EXPECT_EQ(first(Merge(kSms, R"({"message_type":"image"})")),
            (InvalidParameter{"message_type",
                              "is not supported on channel sms; use one of: "
                              "text."}));
  EXPECT_EQ(first(Merge(kRcsText, R"({"message_type":"sticker"})")),
            (InvalidParameter{"message_type",
                              "is not supported on channel rcs; use one of: text, image, video, "
                              "file, custom, card, carousel."}));
  EXPECT_EQ(first(Merge(kMmsText, R"({"image":{},"message_type":"image"})")),
            (InvalidParameter{"image.url", "is required."}));
  EXPECT_EQ(first(Merge(kViberText, R"({"ttl":60})")),
            (InvalidParameter{"ttl",
                              "is not supported on channel viber_service; use "
                              "viber_service.ttl."}));
  EXPECT_EQ(first(Merge(kRcsCard, R"({"card":{"media_height":null}})")),
            (InvalidParameter{"card.media_height",
                              "is required when rcs.card_orientation is VERTICAL (the default)."}));
}

TEST(ValidationTest, NullCountsAsAbsent) {
  const auto ok = ValidateSendRequest(J(R"({"to":"447700900001","from":"Vonage","channel":"sms",
      "message_type":"text","text":"x","client_ref":null,"ttl":null,"webhook_url":null,
      "sms":null,"failover":null})"));
  ASSERT_TRUE(ok) << Describe(ok.error());
  EXPECT_EQ(ok->items.size(), 1u);
  EXPECT_FALSE(ok->items[0].client_ref);
  EXPECT_FALSE(ok->items[0].ttl_seconds);
  EXPECT_FALSE(ok->items[0].webhook_url);

  const auto missing = ValidateSendRequest(J(R"({"to":"447700900001","from":"Vonage",
      "channel":"sms","message_type":"text","text":null})"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().invalid_parameters,
            (std::vector<InvalidParameter>{{"text", "is required."}}));
}

// --- Boundaries: the maximum passes, one more fails ---

struct Limit {
  std::string_view base;
  std::string_view channel;
  size_t max;
};

TEST(ValidationTest, TextLimitPerChannelIsExact) {
  for (const Limit& limit :
       {Limit{kSms, "sms", 3200}, Limit{kRcsText, "rcs", 3072}, Limit{kWaText, "whatsapp", 4096},
        Limit{kMsText, "messenger", 640}, Limit{kViberText, "viber_service", 1000}}) {
    SCOPED_TRACE(limit.channel);
    json::value body = J(limit.base);
    body.as_object()["text"] = Repeat("a", limit.max);
    EXPECT_TRUE(ValidateSendRequest(body));
    body.as_object()["text"] = Repeat("a", limit.max + 1);
    const auto result = ValidateSendRequest(body);
    ASSERT_FALSE(result);
    EXPECT_EQ(result.error().invalid_parameters,
              (std::vector<InvalidParameter>{
                  {"text", "must be at most " + std::to_string(limit.max) + " characters."}}));
    EXPECT_EQ(result.error().kind, Kind::kInvalidParams);
  }
}

TEST(ValidationTest, LengthsCountUtf16CodeUnits) {
  auto sms_with = [](std::string text) {
    json::value body = J(kSms);
    body.as_object()["text"] = std::move(text);
    return ValidateSendRequest(body).has_value();
  };
  EXPECT_TRUE(sms_with(Repeat("é", 3200)));  // 2 bytes, 1 unit
  EXPECT_FALSE(sms_with(Repeat("é", 3201)));
  EXPECT_TRUE(sms_with(Repeat("€", 3200)));  // 3 bytes, 1 unit
  EXPECT_FALSE(sms_with(Repeat("€", 3201)));
  EXPECT_TRUE(sms_with(Repeat("😀", 1600)));  // 4 bytes, a surrogate pair: 2 units
  EXPECT_FALSE(sms_with(Repeat("😀", 1600) + "a"));
  EXPECT_TRUE(sms_with(Repeat("😀", 1599) + "ab"));
}

// Sets `path` (dotted, with [i] for array elements) in a copy of `base` to `value`.
json::value With(std::string_view base, std::string_view path, json::value value) {
  json::value body = J(base);
  json::value* at = &body;
  while (!path.empty()) {
    const size_t dot = path.find('.');
    std::string_view step = path.substr(0, dot);
    path = dot == std::string_view::npos ? std::string_view() : path.substr(dot + 1);
    size_t index = std::string_view::npos;
    if (const size_t bracket = step.find('['); bracket != std::string_view::npos) {
      index = std::stoul(std::string(step.substr(bracket + 1)));
      step = step.substr(0, bracket);
    }
    at = &at->as_object()[step];
    if (index != std::string_view::npos) at = &at->as_array().at(index);
  }
  *at = std::move(value);
  return body;
}

constexpr std::string_view kRcsDial =
    R"({"to":"447700900000","from":"Vonage","channel":"rcs","message_type":"text","text":"Hello",
        "suggestions":[{"type":"dial","text":"Call","postback_data":"d","phone_number":"14155550100"}]})";

struct Boundary {
  std::string_view base;
  std::string_view path;  // the field set, also the name reported
  json::value ok;
  json::value bad;
};

TEST(ValidationTest, FieldLimitsAreExact) {
  const std::string url_of_2000 = "https://example.com/" + std::string(1980, 'a');
  const std::string url_of_1000 = "https://example.com/" + std::string(980, 'a');
  const std::vector<Boundary> boundaries{
      {kSms, "client_ref", json::value(Repeat("r", 100)), json::value(Repeat("r", 101))},
      {kSms, "client_ref", json::value(Repeat("é", 100)), json::value(Repeat("é", 101))},
      {kSms, "to", json::value("1234567"), json::value("123456")},
      {kSms, "to", json::value("123456789012345"), json::value("1234567890123456")},
      {kSms, "from", json::value("ABCDEFGHIJK"), json::value("ABCDEFGHIJKL")},
      {kSms, "from", json::value("123456789012345"), json::value("1234567890123456")},
      {kSms, "ttl", json::value(20), json::value(19)},
      {kSms, "ttl", json::value(604800), json::value(604801)},
      {kSms, "ttl", json::value(600.0), json::value(600.5)},
      {kMmsText, "ttl", json::value(300), json::value(299)},
      {kMmsText, "ttl", json::value(259200), json::value(259201)},
      {kRcsText, "ttl", json::value(20), json::value(19)},
      {kRcsText, "ttl", json::value(259200), json::value(259201)},
      {kViberText, "viber_service", J(R"({"ttl":30})"), J(R"({"ttl":29})")},
      {kViberText, "viber_service", J(R"({"ttl":259200})"), J(R"({"ttl":259201})")},
      {kMmsImage, "image.caption", json::value(Repeat("c", 3000)), json::value(Repeat("c", 3001))},
      {kMmsImage, "image.url", json::value(url_of_2000), json::value(url_of_2000 + "a")},
      {kWaAudio, "audio.url", json::value("http://a.b"), json::value("http://ab")},
      {kMsText, "to", json::value(Repeat("9", 50)), json::value(Repeat("9", 51))},
      {kMsText, "from", json::value(Repeat("9", 50)), json::value(Repeat("9", 51))},
      {kViberText, "from", json::value(Repeat("v", 50)), json::value(Repeat("v", 51))},
      {kViberFile, "file.name", json::value(Repeat("n", 25)), json::value(Repeat("n", 26))},
      {kWaFile, "file.name", json::value(Repeat("n", 255)), json::value(Repeat("n", 256))},
      {kViberVideo, "video.thumb_url", json::value(url_of_1000), json::value(url_of_1000 + "a")},
      {kViberVideo, "viber_service.duration", json::value("600"), json::value("601")},
      {kViberVideo, "viber_service.duration", json::value("1"), json::value("0")},
      {kViberVideo, "viber_service.file_size", json::value("200"), json::value("201")},
      {kViberText, "viber_service",
       J(R"({"action":{"url":"https://example.com","text":")" + Repeat("t", 30) + R"("}})"),
       J(R"({"action":{"url":"https://example.com","text":")" + Repeat("t", 31) + R"("}})")},
      {kRcsCard, "card.title", json::value(Repeat("t", 200)), json::value(Repeat("t", 201))},
      {kRcsCard, "card.text", json::value(Repeat("t", 2000)), json::value(Repeat("t", 2001))},
      {kRcsCarousel, "carousel.cards[1].title", json::value(Repeat("t", 200)),
       json::value(Repeat("t", 201))},
      {kRcsText, "suggestions",
       J(R"([{"type":"reply","text":")" + Repeat("s", 25) + R"(","postback_data":"p"}])"),
       J(R"([{"type":"reply","text":")" + Repeat("s", 26) + R"(","postback_data":"p"}])")},
      {kRcsText, "suggestions",
       J(R"([{"type":"open_url","text":"t","postback_data":"p","url":"https://e.com","description":")" +
         Repeat("d", 500) + R"("}])"),
       J(R"([{"type":"open_url","text":"t","postback_data":"p","url":"https://e.com","description":")" +
         Repeat("d", 501) + R"("}])")},
      {kRcsText, "suggestions",
       J(R"([{"type":"create_calendar_event","text":"t","postback_data":"p","start_time":"2023-01-01T10:00:00Z",
             "end_time":"2023-01-01T11:00:00Z","description":"d","title":")" +
         Repeat("c", 100) + R"("}])"),
       J(R"([{"type":"create_calendar_event","text":"t","postback_data":"p","start_time":"2023-01-01T10:00:00Z",
             "end_time":"2023-01-01T11:00:00Z","description":"d","title":")" +
         Repeat("c", 101) + R"("}])")},
      {kRcsDial, "suggestions[0].phone_number", json::value("+123456789012345"),
       json::value("+1234567890123456")},
  };
  for (const Boundary& b : boundaries) {
    SCOPED_TRACE(std::string(b.path) + " in " + std::string(b.base.substr(0, 80)));
    const json::value ok_body = With(b.base, b.path, b.ok);
    const json::value bad_body = With(b.base, b.path, b.bad);
    const auto ok = ValidateSendRequest(ok_body);
    EXPECT_TRUE(ok) << json::serialize(ok_body) << (ok ? "" : Describe(ok.error()));
    const auto bad = ValidateSendRequest(bad_body);
    ASSERT_FALSE(bad) << json::serialize(bad_body);
    ASSERT_EQ(bad.error().invalid_parameters.size(), 1u) << Describe(bad.error());
    // The reported name is the field itself, or (for values set as a whole object or array)
    // one below it.
    EXPECT_TRUE(bad.error().invalid_parameters[0].name.starts_with(std::string(b.path)))
        << Describe(bad.error());
  }
}

TEST(ValidationTest, SuggestionAndCardCountsAreExact) {
  auto replies = [](size_t n) {
    json::array list;
    for (size_t i = 0; i < n; ++i) {
      list.push_back(json::object{{"type", "reply"}, {"text", "r"}, {"postback_data", "p"}});
    }
    return json::value(std::move(list));
  };
  EXPECT_TRUE(ValidateSendRequest(With(kRcsText, "suggestions", replies(11))));
  auto too_many = ValidateSendRequest(With(kRcsText, "suggestions", replies(12)));
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().invalid_parameters,
            (std::vector<InvalidParameter>{{"suggestions", "must have at most 11 items."}}));

  EXPECT_TRUE(ValidateSendRequest(With(kRcsCard, "card.suggestions", replies(4))));
  EXPECT_FALSE(ValidateSendRequest(With(kRcsCard, "card.suggestions", replies(5))));
  EXPECT_TRUE(ValidateSendRequest(With(kRcsCarousel, "suggestions", replies(11))));
  EXPECT_FALSE(ValidateSendRequest(With(kRcsCarousel, "suggestions", replies(12))));
  // A card message has no top-level suggestions; they are the card's.
  EXPECT_TRUE(ValidateSendRequest(With(kRcsCard, "suggestions", replies(12))));

  auto cards = [](size_t n) {
    json::array list;
    for (size_t i = 0; i < n; ++i) {
      list.push_back(json::object{{"title", "t"},
                                  {"text", "x"},
                                  {"media_url", "https://example.com/a.jpg"},
                                  {"media_height", "SHORT"}});
    }
    return json::value(std::move(list));
  };
  EXPECT_FALSE(ValidateSendRequest(With(kRcsCarousel, "carousel.cards", cards(1))));
  EXPECT_TRUE(ValidateSendRequest(With(kRcsCarousel, "carousel.cards", cards(2))));
  EXPECT_TRUE(ValidateSendRequest(With(kRcsCarousel, "carousel.cards", cards(10))));
  auto eleven = ValidateSendRequest(With(kRcsCarousel, "carousel.cards", cards(11)));
  ASSERT_FALSE(eleven);
  EXPECT_EQ(eleven.error().invalid_parameters,
            (std::vector<InvalidParameter>{{"carousel.cards", "must have at most 10 items."}}));
}

// --- Failover ---

// Contract §4.1, verbatim.
constexpr std::string_view kRcsToSms = R"({
  "to": "447700900000",
  "from": "Vonage",
  "channel": "rcs",
  "message_type": "text",
  "text": "This is an RCS text message sent via the Vonage Messages API",
  "failover": [
    {
      "to": "447700900000",
      "from": "447700900001",
      "channel": "sms",
      "message_type": "text",
      "text": "This is an SMS sent using the Vonage Messages API."
    }
  ]
})";

TEST(FailoverTest, AcceptsTheContractExample) {
  const json::value body = J(kRcsToSms);
  const auto result = ValidateSendRequest(body);
  ASSERT_TRUE(result) << Describe(result.error());
  ASSERT_EQ(result->items.size(), 2u);
  EXPECT_TRUE(result->has_failover());
  const OutboundMessage& rcs = result->items[0];
  EXPECT_EQ(rcs.channel, Channel::kRcs);
  EXPECT_EQ(rcs.message_type, "text");
  EXPECT_EQ(rcs.to, "447700900000");
  EXPECT_EQ(rcs.from, "Vonage");
  json::object primary_without_failover = body.as_object();
  primary_without_failover.erase("failover");
  EXPECT_EQ(rcs.payload, primary_without_failover);
  const OutboundMessage& sms = result->items[1];
  EXPECT_EQ(sms.channel, Channel::kSms);
  EXPECT_EQ(sms.from, "447700900001");
  EXPECT_EQ(sms.payload, body.at("failover").at(0).as_object());
}

TEST(FailoverTest, ItemsAreValidatedLikePrimariesAndPrefixed) {
  const json::value body = Merge(kRcsToSms, R"({"failover":[
      {"to":"447700900000","from":"Vonage","channel":"sms","message_type":"text"},
      {"to":"1","from":"447700900001","channel":"whatsapp","message_type":"image","image":{"url":"x"},
       "failover":[{"channel":"sms"}]},
      7,
      {"to":"447700900000","from":"ViberService","channel":"viber_service","message_type":"video",
       "video":{"url":"https://example.com/v.mp4"},"client_ref":")" +
                                                std::string(101, 'c') + R"("}]})");
  const auto result = ValidateSendRequest(body);
  ASSERT_FALSE(result);
  const std::vector<InvalidParameter> expected{
      {"failover[0].text", "is required."},
      {"failover[1].to",
       "must be an E.164 number (7 to 15 digits starting with the country code, "
       "no + or 00) or a WhatsApp BSUID such as US.13491208655302741918."},
      {"failover[1].image.url", "must be an absolute http or https URL."},
      {"failover[1].failover", "nested failover is not supported."},
      {"failover[2]", "must be an object."},
      {"failover[3].video.thumb_url", "is required."},
      {"failover[3].viber_service", "is required."},
      {"failover[3].client_ref", "must be at most 100 characters."},
  };
  EXPECT_EQ(result.error().invalid_parameters, expected) << Describe(result.error());
  EXPECT_EQ(result.error().kind, Kind::kInvalidParams);
}

TEST(FailoverTest, FirstProblemAcrossItemsDecidesTheKind) {
  auto kind_of = [](std::string_view patch) {
    const auto result = ValidateSendRequest(Merge(kRcsToSms, patch));
    EXPECT_FALSE(result) << patch;
    return result ? Kind::kInvalidParams : result.error().kind;
  };
  EXPECT_EQ(kind_of(R"({"failover":[{"channel":"pigeon"}]})"), Kind::kUnsupportedChannel);
  EXPECT_EQ(kind_of(R"({"failover":[{"to":"447700900000","from":"Von age","channel":"rcs",
                                      "message_type":"text","text":"x"}]})"),
            Kind::kInvalidSender);
  // The primary's problems come first.
  EXPECT_EQ(kind_of(R"({"client_ref":5,"failover":[{"channel":"pigeon"}]})"),
            Kind::kInvalidClientRef);
}

TEST(FailoverTest, ArrayShape) {
  auto failover_with = [](json::value failover) {
    json::value body = J(kSms);
    body.as_object()["failover"] = std::move(failover);
    return ValidateSendRequest(body);
  };
  auto only_problem = [](const tl::expected<SendRequest, ValidationFailure>& result) {
    EXPECT_FALSE(result);
    return result ? InvalidParameter{} : result.error().invalid_parameters.at(0);
  };
  EXPECT_EQ(only_problem(failover_with(json::array())),
            (InvalidParameter{"failover", "must not be empty."}));
  EXPECT_EQ(only_problem(failover_with(json::object())),
            (InvalidParameter{"failover", "must be an array."}));
  EXPECT_EQ(only_problem(failover_with(json::value("sms"))),
            (InvalidParameter{"failover", "must be an array."}));

  const json::value item = J(kSms);
  json::array five(kMaxFailoverItems, item);
  const auto result = failover_with(five);
  ASSERT_TRUE(result) << Describe(result.error());
  EXPECT_EQ(result->items.size(), kMaxFailoverItems + 1);

  // Six items: refused as a whole; the items themselves are not looked at.
  json::array six(kMaxFailoverItems + 1, J(R"({"channel":"pigeon"})"));
  const auto too_many = failover_with(six);
  ASSERT_FALSE(too_many);
  EXPECT_EQ(too_many.error().invalid_parameters,
            (std::vector<InvalidParameter>{{"failover", "must have at most 5 items."}}));
  EXPECT_EQ(too_many.error().kind, Kind::kInvalidParams);
}

TEST(FailoverTest, SameRecipientIsNotRequiredAndItemsKeepTheirOwnOptions) {
  const auto result = ValidateSendRequest(Merge(kWaText, R"({"client_ref":"primary",
      "failover":[
        {"to":"447700900999","from":"ViberService","channel":"viber_service","message_type":"text",
         "text":"Hi","viber_service":{"ttl":600},"client_ref":"second"},
        {"to":"447700900000","from":"Herald","channel":"sms","message_type":"text","text":"Hi",
         "ttl":900,"webhook_url":"https://example.com/sms","webhook_version":"v0.1"}]})"));
  ASSERT_TRUE(result) << Describe(result.error());
  ASSERT_EQ(result->items.size(), 3u);
  EXPECT_EQ(result->items[0].client_ref, "primary");
  EXPECT_FALSE(result->items[0].ttl_seconds);
  EXPECT_EQ(result->items[1].to, "447700900999");
  EXPECT_EQ(result->items[1].client_ref, "second");
  EXPECT_EQ(result->items[1].ttl_seconds, 600);  // from viber_service.ttl
  EXPECT_EQ(result->items[2].ttl_seconds, 900);
  EXPECT_FALSE(result->items[2].client_ref);
  EXPECT_EQ(result->items[2].webhook_url, "https://example.com/sms");
  EXPECT_EQ(result->items[2].webhook_version, "v0.1");
  EXPECT_EQ(result->items[2].message_type, "text");
}

// The integration suite's multi-field refusal (tests/integration/validation.test.mjs).
TEST(FailoverTest, EveryFieldIsNamedOnce) {
  const auto result = ValidateSendRequest(J(R"({"channel":"sms","message_type":"text","to":"12",
      "from":"Herald","client_ref":")" + std::string(101, 'x') +
                                            R"(",
      "failover":[{"channel":"whatsapp","message_type":"text","to":"not-a-number","from":"447700900002"}]})"));
  ASSERT_FALSE(result);
  EXPECT_EQ(
      Names(result.error()),
      (std::vector<std::string>{"to", "text", "client_ref", "failover[0].to", "failover[0].text"}));
  EXPECT_EQ(result.error().kind, Kind::kInvalidRecipient);
}

// --- Problem types and names ---

TEST(ProblemTypeTest, MatchesTheSpecAnchors) {
  const std::string base = "https://developer.vonage.com/api-errors/messages#";
  const std::vector<std::pair<Kind, ProblemType>> expected{
      {Kind::kUnsupportedChannel, {base + "1100", "Unsupported channel"}},
      {Kind::kInvalidChannelParams, {base + "1110", "Invalid channel parameters"}},
      {Kind::kInvalidSender, {base + "1120", "Invalid sender"}},
      {Kind::kInvalidRecipient, {base + "110", "Invalid recipient"}},
      {Kind::kInvalidMessageType, {base + "1140", "Invalid message type"}},
      {Kind::kInvalidParams, {base + "1150", "Invalid params"}},
      {Kind::kInvalidClientRef, {base + "1060", "Invalid client reference"}},
  };
  for (const auto& [kind, problem] : expected) {
    const ProblemType actual = ProblemTypeOf(kind);
    EXPECT_EQ(actual.type, problem.type);
    EXPECT_EQ(actual.title, problem.title);
  }
}

TEST(MessageTest, ChannelNames) {
  const std::vector<std::pair<Channel, std::string_view>> names{
      {Channel::kSms, "sms"},
      {Channel::kMms, "mms"},
      {Channel::kRcs, "rcs"},
      {Channel::kWhatsapp, "whatsapp"},
      {Channel::kMessenger, "messenger"},
      {Channel::kViberService, "viber_service"},
  };
  for (const auto& [channel, name] : names) {
    EXPECT_EQ(ChannelName(channel), name);
    EXPECT_EQ(ParseChannel(name), channel);
  }
  EXPECT_FALSE(ParseChannel("viber"));
  EXPECT_FALSE(ParseChannel("email"));
  EXPECT_FALSE(ParseChannel("SMS"));
  EXPECT_FALSE(ParseChannel(""));
}

TEST(MessageTest, StateNames) {
  const std::vector<std::pair<MessageState, std::string_view>> names{
      {MessageState::kQueued, "queued"},
      {MessageState::kWaiting, "waiting"},
      {MessageState::kSubmitted, "submitted"},
      {MessageState::kDelivered, "delivered"},
      {MessageState::kRead, "read"},
      {MessageState::kRejected, "rejected"},
      {MessageState::kUndeliverable, "undeliverable"},
      {MessageState::kSkipped, "skipped"},
  };
  for (const auto& [state, name] : names) {
    EXPECT_EQ(MessageStateName(state), name);
    EXPECT_EQ(ParseMessageState(name), state);
  }
  EXPECT_FALSE(ParseMessageState("failed"));
  EXPECT_FALSE(ParseMessageState("Queued"));
}

}  // namespace
}  // namespace herald::domain

-- OpenContact schema for MySQL 8 / MariaDB 10.5+ (InnoDB, utf8mb4).
--
-- The same schema as datastore/models.py (a test loads this file and the models into two databases
-- on a real MariaDB and requires identical tables, columns, keys, indexes and checks).
-- Safe to load again: every statement is CREATE TABLE IF NOT EXISTS.
-- Times are UTC.

SET NAMES utf8mb4;

-- PJSIP endpoints read by Asterisk realtime (sorcery). Asterisk's column names and types;
-- yes/no options hold 'yes'/'no'; NULL means Asterisk's default for that option.
CREATE TABLE IF NOT EXISTS `ps_endpoints` (
  `id` VARCHAR(255) NOT NULL,
  `transport` VARCHAR(40),
  `aors` VARCHAR(2048),
  `auth` VARCHAR(255),
  `context` VARCHAR(40),
  `disallow` VARCHAR(200),
  `allow` VARCHAR(200),
  `direct_media` VARCHAR(5),
  `dtmf_mode` VARCHAR(40),
  `force_rport` VARCHAR(5),
  `rewrite_contact` VARCHAR(5),
  `rtp_symmetric` VARCHAR(5),
  `ice_support` VARCHAR(5),
  `use_avpf` VARCHAR(5),
  `media_encryption` VARCHAR(40),
  `dtls_verify` VARCHAR(40),
  `dtls_setup` VARCHAR(40),
  `dtls_cert_file` VARCHAR(200),
  `dtls_private_key` VARCHAR(200),
  `dtls_ca_file` VARCHAR(200),
  `dtls_auto_generate_cert` VARCHAR(5),
  `rtcp_mux` VARCHAR(5),
  `bundle` VARCHAR(5),
  `webrtc` VARCHAR(5),
  `mailboxes` VARCHAR(40),
  `callerid` VARCHAR(40),
  `language` VARCHAR(40),
  `accountcode` VARCHAR(80),
  `call_group` VARCHAR(40),
  `pickup_group` VARCHAR(40),
  `named_call_group` VARCHAR(40),
  `named_pickup_group` VARCHAR(40),
  `device_state_busy_at` INT,
  `moh_suggest` VARCHAR(40),
  `from_user` VARCHAR(40),
  `from_domain` VARCHAR(40),
  `outbound_auth` VARCHAR(255),
  `outbound_proxy` VARCHAR(255),
  `allow_subscribe` VARCHAR(5),
  `subscribe_context` VARCHAR(40),
  `trust_id_inbound` VARCHAR(5),
  `send_pai` VARCHAR(5),
  `rtp_timeout` INT,
  `rtp_keepalive` INT,
  `max_audio_streams` INT,
  `set_var` TEXT,
  PRIMARY KEY (`id`),
  CONSTRAINT `ck_ps_endpoints_direct_media` CHECK (direct_media IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_dtmf_mode` CHECK (dtmf_mode IN ('rfc4733','inband','info','auto','auto_info')),
  CONSTRAINT `ck_ps_endpoints_force_rport` CHECK (force_rport IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_rewrite_contact` CHECK (rewrite_contact IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_rtp_symmetric` CHECK (rtp_symmetric IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_ice_support` CHECK (ice_support IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_use_avpf` CHECK (use_avpf IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_media_encryption` CHECK (media_encryption IN ('no','sdes','dtls')),
  CONSTRAINT `ck_ps_endpoints_dtls_auto_generate_cert` CHECK (dtls_auto_generate_cert IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_rtcp_mux` CHECK (rtcp_mux IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_bundle` CHECK (bundle IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_webrtc` CHECK (webrtc IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_allow_subscribe` CHECK (allow_subscribe IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_trust_id_inbound` CHECK (trust_id_inbound IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_endpoints_send_pai` CHECK (send_pai IN ('yes','no','true','false','on','off','1','0'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- PJSIP inbound authentication. Phones use auth_type 'md5' with md5_cred = md5(username:realm:password),
-- so no clear password is stored.
CREATE TABLE IF NOT EXISTS `ps_auths` (
  `id` VARCHAR(255) NOT NULL,
  `auth_type` VARCHAR(20),
  `nonce_lifetime` INT,
  `md5_cred` VARCHAR(40),
  `password` VARCHAR(80),
  `realm` VARCHAR(255),
  `username` VARCHAR(40),
  PRIMARY KEY (`id`),
  CONSTRAINT `ck_ps_auths_auth_type` CHECK (auth_type IN ('md5','userpass','digest','google_oauth'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- PJSIP addresses of record (where an endpoint registers).
CREATE TABLE IF NOT EXISTS `ps_aors` (
  `id` VARCHAR(255) NOT NULL,
  `contact` VARCHAR(255),
  `default_expiration` INT,
  `mailboxes` VARCHAR(80),
  `max_contacts` INT,
  `minimum_expiration` INT,
  `maximum_expiration` INT,
  `remove_existing` VARCHAR(5),
  `remove_unavailable` VARCHAR(5),
  `qualify_frequency` INT,
  `qualify_timeout` FLOAT,
  `authenticate_qualify` VARCHAR(5),
  `support_path` VARCHAR(5),
  `outbound_proxy` VARCHAR(255),
  `voicemail_extension` VARCHAR(40),
  PRIMARY KEY (`id`),
  KEY `ps_aors_qualifyfreq_contact` (`qualify_frequency`, `contact`),
  CONSTRAINT `ck_ps_aors_remove_existing` CHECK (remove_existing IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_aors_remove_unavailable` CHECK (remove_unavailable IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_aors_authenticate_qualify` CHECK (authenticate_qualify IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_ps_aors_support_path` CHECK (support_path IN ('yes','no','true','false','on','off','1','0'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Campaigns: Asterisk's realtime queues table (app_queue reads the Asterisk columns and ignores the
-- rest) followed by the product's own campaign settings (did ... transfer_campaigns).
CREATE TABLE IF NOT EXISTS `queues` (
  `name` VARCHAR(128) NOT NULL,
  `musiconhold` VARCHAR(128) NOT NULL DEFAULT 'default',
  `announce` VARCHAR(128) NOT NULL DEFAULT '',
  `context` VARCHAR(128) NOT NULL DEFAULT '',
  `timeout` INT NOT NULL DEFAULT 15,
  `ringinuse` VARCHAR(5) NOT NULL DEFAULT 'no',
  `setinterfacevar` VARCHAR(5) NOT NULL DEFAULT 'yes',
  `setqueuevar` VARCHAR(5),
  `setqueueentryvar` VARCHAR(5),
  `monitor_format` VARCHAR(8) NOT NULL DEFAULT 'wav',
  `membermacro` VARCHAR(512),
  `membergosub` VARCHAR(512),
  `queue_youarenext` VARCHAR(128),
  `queue_thereare` VARCHAR(128),
  `queue_callswaiting` VARCHAR(128),
  `queue_quantity1` VARCHAR(128),
  `queue_quantity2` VARCHAR(128),
  `queue_holdtime` VARCHAR(128),
  `queue_minutes` VARCHAR(128),
  `queue_minute` VARCHAR(128),
  `queue_seconds` VARCHAR(128),
  `queue_thankyou` VARCHAR(128),
  `queue_callerannounce` VARCHAR(128),
  `queue_reporthold` VARCHAR(128),
  `announce_frequency` INT NOT NULL DEFAULT 0,
  `announce_to_first_user` VARCHAR(5),
  `min_announce_frequency` INT,
  `announce_round_seconds` INT NOT NULL DEFAULT 0,
  `announce_holdtime` VARCHAR(128) NOT NULL DEFAULT 'no',
  `announce_position` VARCHAR(128) NOT NULL DEFAULT 'no',
  `announce_position_limit` INT,
  `periodic_announce` VARCHAR(50) NOT NULL DEFAULT '',
  `periodic_announce_frequency` INT NOT NULL DEFAULT 0,
  `relative_periodic_announce` VARCHAR(5),
  `random_periodic_announce` VARCHAR(5),
  `retry` INT NOT NULL DEFAULT 5,
  `wrapuptime` INT NOT NULL DEFAULT 0,
  `penaltymemberslimit` INT,
  `autofill` VARCHAR(5),
  `monitor_type` VARCHAR(128) NOT NULL DEFAULT 'MixMonitor',
  `autopause` VARCHAR(3),
  `autopausedelay` INT,
  `autopausebusy` VARCHAR(5),
  `autopauseunavail` VARCHAR(5),
  `maxlen` INT NOT NULL DEFAULT 0,
  `servicelevel` INT NOT NULL DEFAULT 20,
  `strategy` VARCHAR(16) NOT NULL DEFAULT 'rrmemory',
  `joinempty` VARCHAR(128) NOT NULL DEFAULT 'yes',
  `leavewhenempty` VARCHAR(128) NOT NULL DEFAULT 'no',
  `reportholdtime` VARCHAR(5) NOT NULL DEFAULT 'no',
  `memberdelay` INT NOT NULL DEFAULT 0,
  `weight` INT NOT NULL DEFAULT 0,
  `timeoutrestart` VARCHAR(5) NOT NULL DEFAULT 'no',
  `defaultrule` VARCHAR(128),
  `timeoutpriority` VARCHAR(128),
  `log_restricted_caller_id` VARCHAR(5),
  `eventmemberstatus` VARCHAR(5) NOT NULL DEFAULT 'no',
  `eventwhencalled` VARCHAR(5) NOT NULL DEFAULT 'yes',
  `did` VARCHAR(255) NOT NULL DEFAULT '',
  `direction` VARCHAR(8) NOT NULL DEFAULT 'inbound',
  `interactions` VARCHAR(255) NOT NULL DEFAULT '',
  `email` VARCHAR(255) NOT NULL DEFAULT '',
  `thresholds` VARCHAR(255) NOT NULL DEFAULT '',
  `welcome` VARCHAR(512) NOT NULL DEFAULT '',
  `outofhours` VARCHAR(255) NOT NULL DEFAULT '',
  `schedule` VARCHAR(1024) NOT NULL DEFAULT 'sun-sat;00:00-23:59',
  `form` VARCHAR(1024) NOT NULL DEFAULT '',
  `quality` VARCHAR(255) NOT NULL DEFAULT '',
  `dialstring` VARCHAR(255) NOT NULL DEFAULT '',
  `voicemail` VARCHAR(20) NOT NULL DEFAULT '',
  `callerid` VARCHAR(1024) NOT NULL DEFAULT '',
  `record` BOOL NOT NULL DEFAULT 0,
  `virtual_hold` BOOL NOT NULL DEFAULT 0,
  `virtual_hold_key` VARCHAR(1) NOT NULL DEFAULT '',
  `virtual_hold_hangup` BOOL NOT NULL DEFAULT 0,
  `queue_survey` INT NOT NULL DEFAULT 0,
  `queue_timeout` INT NOT NULL DEFAULT 0,
  `auto_answer` BOOL NOT NULL DEFAULT 0,
  `show_dispositions` INT NOT NULL DEFAULT 0,
  `queue_breaks` VARCHAR(1024) NOT NULL DEFAULT '',
  `screen_recording` INT NOT NULL DEFAULT 0,
  `language` VARCHAR(16) NOT NULL DEFAULT 'en',
  `transfer_campaigns` VARCHAR(1024) NOT NULL DEFAULT '',
  PRIMARY KEY (`name`),
  CONSTRAINT `ck_queues_ringinuse` CHECK (ringinuse IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_setinterfacevar` CHECK (setinterfacevar IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_setqueuevar` CHECK (setqueuevar IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_setqueueentryvar` CHECK (setqueueentryvar IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_announce_to_first_user` CHECK (announce_to_first_user IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_relative_periodic_announce` CHECK (relative_periodic_announce IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_random_periodic_announce` CHECK (random_periodic_announce IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_autofill` CHECK (autofill IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_autopause` CHECK (autopause IN ('yes','no','all')),
  CONSTRAINT `ck_queues_autopausebusy` CHECK (autopausebusy IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_autopauseunavail` CHECK (autopauseunavail IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_strategy` CHECK (strategy IN ('ringall','leastrecent','fewestcalls','random','rrmemory','linear','wrandom','rrordered')),
  CONSTRAINT `ck_queues_reportholdtime` CHECK (reportholdtime IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_timeoutrestart` CHECK (timeoutrestart IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_log_restricted_caller_id` CHECK (log_restricted_caller_id IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_eventmemberstatus` CHECK (eventmemberstatus IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_eventwhencalled` CHECK (eventwhencalled IN ('yes','no','true','false','on','off','1','0')),
  CONSTRAINT `ck_queues_direction` CHECK (direction IN ('inbound','outbound'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Campaign members: Asterisk's realtime queue_members. uniqueid is the key; one row per campaign and
-- interface (e.g. PJSIP/1001). NULL wrapuptime/ringinuse = as the campaign says.
CREATE TABLE IF NOT EXISTS `queue_members` (
  `uniqueid` INT NOT NULL AUTO_INCREMENT,
  `queue_name` VARCHAR(128) NOT NULL,
  `interface` VARCHAR(80) NOT NULL,
  `membername` VARCHAR(80) NOT NULL DEFAULT '',
  `state_interface` VARCHAR(80),
  `penalty` INT NOT NULL DEFAULT 0,
  `paused` INT NOT NULL DEFAULT 0,
  `reason_paused` VARCHAR(80),
  `wrapuptime` INT,
  `ringinuse` VARCHAR(5),
  PRIMARY KEY (`uniqueid`),
  UNIQUE KEY `uq_queue_members_queue_name_interface` (`queue_name`, `interface`),
  KEY `ix_queue_members_interface` (`interface`),
  CONSTRAINT `fk_queue_members_queue_name` FOREIGN KEY (`queue_name`) REFERENCES `queues` (`name`) ON DELETE CASCADE ON UPDATE CASCADE,
  CONSTRAINT `ck_queue_members_ringinuse` CHECK (ringinuse IN ('yes','no','true','false','on','off','1','0'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- People who sign in (roles agent, supervisor, administrative). Passwords only as argon2id hashes.
CREATE TABLE IF NOT EXISTS `users` (
  `id` INT NOT NULL AUTO_INCREMENT,
  `username` VARCHAR(80) NOT NULL,
  `fullname` VARCHAR(128) NOT NULL DEFAULT '',
  `password_hash` VARCHAR(255) NOT NULL,
  `role` VARCHAR(16) NOT NULL DEFAULT 'agent',
  `phone` VARCHAR(40),
  `email` VARCHAR(255) NOT NULL DEFAULT '',
  `active` BOOL NOT NULL DEFAULT 1,
  `phonetype` VARCHAR(32) NOT NULL DEFAULT 'SoftPhone',
  `record` VARCHAR(16) NOT NULL DEFAULT '',
  `log_level` VARCHAR(16) NOT NULL DEFAULT 'SEVERE',
  `limite` INT NOT NULL DEFAULT 0,
  `did` VARCHAR(40) NOT NULL DEFAULT '',
  `failed_logins` INT NOT NULL DEFAULT 0,
  `locked_until` DATETIME,
  `last_login` DATETIME,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_users_phone` (`phone`),
  UNIQUE KEY `uq_users_username` (`username`),
  CONSTRAINT `ck_users_role` CHECK (role IN ('agent','supervisor','administrative'))
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- API tokens, stored only as the SHA-256 hex of the token.
CREATE TABLE IF NOT EXISTS `api_tokens` (
  `token_hash` VARCHAR(64) NOT NULL,
  `user_id` INT NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  `expires_at` DATETIME NOT NULL,
  `revoked` BOOL NOT NULL DEFAULT 0,
  PRIMARY KEY (`token_hash`),
  KEY `ix_api_tokens_user_id` (`user_id`),
  CONSTRAINT `fk_api_tokens_user_id` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Queue events in Asterisk's queue_log form (time|callid|queuename|agent|event|data1..data5).
-- record_id is set by OpenContact's writer and makes journal replays idempotent.
CREATE TABLE IF NOT EXISTS `queue_log` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `origid` BIGINT,
  `time` DATETIME(6) NOT NULL,
  `callid` VARCHAR(80) NOT NULL DEFAULT '',
  `queuename` VARCHAR(256) NOT NULL DEFAULT '',
  `agent` VARCHAR(80) NOT NULL DEFAULT '',
  `event` VARCHAR(32) NOT NULL,
  `data1` VARCHAR(100) NOT NULL DEFAULT '',
  `data2` VARCHAR(100) NOT NULL DEFAULT '',
  `data3` VARCHAR(100) NOT NULL DEFAULT '',
  `data4` VARCHAR(100) NOT NULL DEFAULT '',
  `data5` VARCHAR(100) NOT NULL DEFAULT '',
  `record_id` VARCHAR(64),
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_queue_log_record_id` (`record_id`),
  KEY `ix_queue_log_agent_time` (`agent`, `time`),
  KEY `ix_queue_log_callid` (`callid`),
  KEY `ix_queue_log_queuename_time` (`queuename`, `time`),
  KEY `ix_queue_log_time` (`time`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Call detail records: Asterisk's cdr columns, the product's columns (type ... dialerbase), a key (id)
-- and record_id for idempotent replays.
CREATE TABLE IF NOT EXISTS `cdr` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `calldate` DATETIME NOT NULL,
  `accountcode` VARCHAR(80) NOT NULL DEFAULT '',
  `src` VARCHAR(80) NOT NULL DEFAULT '',
  `dst` VARCHAR(80) NOT NULL DEFAULT '',
  `dcontext` VARCHAR(80) NOT NULL DEFAULT '',
  `clid` VARCHAR(80) NOT NULL DEFAULT '',
  `channel` VARCHAR(80) NOT NULL DEFAULT '',
  `dstchannel` VARCHAR(80) NOT NULL DEFAULT '',
  `lastapp` VARCHAR(80) NOT NULL DEFAULT '',
  `lastdata` VARCHAR(80) NOT NULL DEFAULT '',
  `start` DATETIME,
  `answer` DATETIME,
  `end` DATETIME,
  `duration` INT NOT NULL DEFAULT 0,
  `billsec` INT NOT NULL DEFAULT 0,
  `disposition` VARCHAR(45) NOT NULL DEFAULT '',
  `amaflags` VARCHAR(45) NOT NULL DEFAULT '',
  `userfield` VARCHAR(256) NOT NULL DEFAULT '',
  `uniqueid` VARCHAR(150) NOT NULL DEFAULT '',
  `linkedid` VARCHAR(150) NOT NULL DEFAULT '',
  `peeraccount` VARCHAR(80) NOT NULL DEFAULT '',
  `sequence` INT NOT NULL DEFAULT 0,
  `type` VARCHAR(20) NOT NULL DEFAULT '',
  `guid` VARCHAR(64) NOT NULL DEFAULT '',
  `causecode` VARCHAR(16) NOT NULL DEFAULT '',
  `campaign` VARCHAR(128) NOT NULL DEFAULT '',
  `charged_balance` NUMERIC(12, 4),
  `real_balance` NUMERIC(12, 4),
  `note` VARCHAR(255) NOT NULL DEFAULT '',
  `contact` VARCHAR(64) NOT NULL DEFAULT '',
  `finishtime` DATETIME,
  `rating` FLOAT,
  `dialerbase` VARCHAR(128) NOT NULL DEFAULT '',
  `record_id` VARCHAR(64),
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_cdr_record_id` (`record_id`),
  KEY `ix_cdr_calldate` (`calldate`),
  KEY `ix_cdr_campaign_calldate` (`campaign`, `calldate`),
  KEY `ix_cdr_guid` (`guid`),
  KEY `ix_cdr_uniqueid` (`uniqueid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Audit trail: when (datetime), who (userid), from where (host), what (action, target, detail).
CREATE TABLE IF NOT EXISTS `auditory` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `datetime` DATETIME(6) NOT NULL,
  `userid` VARCHAR(80) NOT NULL DEFAULT '',
  `host` VARCHAR(45) NOT NULL DEFAULT '',
  `action` VARCHAR(64) NOT NULL,
  `target` VARCHAR(255) NOT NULL DEFAULT '',
  `detail` TEXT,
  PRIMARY KEY (`id`),
  KEY `ix_auditory_datetime` (`datetime`),
  KEY `ix_auditory_userid_datetime` (`userid`, `datetime`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Holidays: dates on which a campaign ('' = every campaign) is closed whatever its schedule says.
CREATE TABLE IF NOT EXISTS `holidays` (
  `id` INT NOT NULL AUTO_INCREMENT,
  `date` DATE NOT NULL,
  `campaign` VARCHAR(128) NOT NULL DEFAULT '',
  `description` VARCHAR(255) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  UNIQUE KEY `uq_holidays_date_campaign` (`date`, `campaign`),
  KEY `ix_holidays_campaign` (`campaign`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Phone features per extension: what the user switched on with feature codes (DND, voicemail,
-- forwarding targets as dialed, '' = off) and what the admin allows (pickup group, call classes).
CREATE TABLE IF NOT EXISTS `phone_features` (
  `extension` VARCHAR(40) NOT NULL,
  `dnd` BOOL NOT NULL DEFAULT 0,
  `voicemail_enabled` BOOL NOT NULL DEFAULT 0,
  `forward_all` VARCHAR(80) NOT NULL DEFAULT '',
  `forward_busy` VARCHAR(80) NOT NULL DEFAULT '',
  `forward_noanswer` VARCHAR(80) NOT NULL DEFAULT '',
  `noanswer_seconds` INT NOT NULL DEFAULT 20,
  `pickup_group` VARCHAR(40) NOT NULL DEFAULT '',
  `call_classes` VARCHAR(128) NOT NULL DEFAULT 'internal,local',
  `record_on_demand` BOOL NOT NULL DEFAULT 1,
  `updated_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`extension`),
  KEY `ix_phone_features_pickup_group` (`pickup_group`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Voicemail boxes, one per extension; only a hash of the password is stored.
CREATE TABLE IF NOT EXISTS `voicemail_boxes` (
  `extension` VARCHAR(40) NOT NULL,
  `password_hash` VARCHAR(255) NOT NULL DEFAULT '',
  `email` VARCHAR(255) NOT NULL DEFAULT '',
  `attach` BOOL NOT NULL DEFAULT 1,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`extension`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Voicemail messages: the audio is the ARI stored recording named in `recording`.
CREATE TABLE IF NOT EXISTS `voicemail_messages` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `box` VARCHAR(40) NOT NULL,
  `recording` VARCHAR(128) NOT NULL,
  `caller` VARCHAR(80) NOT NULL DEFAULT '',
  `received_at` DATETIME NOT NULL,
  `duration` INT NOT NULL DEFAULT 0,
  `heard` BOOL NOT NULL DEFAULT 0,
  PRIMARY KEY (`id`),
  KEY `ix_voicemail_messages_box_received_at` (`box`, `received_at`),
  CONSTRAINT `fk_voicemail_messages_box` FOREIGN KEY (`box`) REFERENCES `voicemail_boxes` (`extension`) ON DELETE CASCADE ON UPDATE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Chat between agents and supervisors (the seed's SIPCHAT): one row per reader, sender included;
-- `dest` is the other agent, '*' (broadcast) or 'campaign:<name>'; `msgid` ties the copies together.
CREATE TABLE IF NOT EXISTS `sipchat` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `datecreated` DATETIME(6) NOT NULL,
  `src` VARCHAR(80) NOT NULL DEFAULT '',
  `dest` VARCHAR(160) NOT NULL DEFAULT '',
  `message` TEXT NOT NULL,
  `srcagent` VARCHAR(80) NOT NULL DEFAULT '',
  `dstagent` VARCHAR(80) NOT NULL DEFAULT '',
  `status` VARCHAR(16) NOT NULL DEFAULT 'SUCCESS',
  `msgid` VARCHAR(32) NOT NULL DEFAULT '',
  `readdate` DATETIME,
  PRIMARY KEY (`id`),
  KEY `ix_sipchat_dstagent_readdate` (`dstagent`, `readdate`),
  KEY `ix_sipchat_dstagent_dest_id` (`dstagent`, `dest`, `id`),
  KEY `ix_sipchat_msgid` (`msgid`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Favourite contacts of each agent.
CREATE TABLE IF NOT EXISTS `contact_favourites` (
  `owner` VARCHAR(80) NOT NULL,
  `contact` VARCHAR(80) NOT NULL,
  `created_at` DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  PRIMARY KEY (`owner`, `contact`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Call dispositions (the seed's DispositionCall): three levels, extra data, comment, callback.
CREATE TABLE IF NOT EXISTS `dispositions` (
  `id` BIGINT NOT NULL AUTO_INCREMENT,
  `datetime` DATETIME NOT NULL,
  `campaign` VARCHAR(128) NOT NULL DEFAULT '',
  `agent` VARCHAR(80) NOT NULL DEFAULT '',
  `callerid` VARCHAR(80) NOT NULL DEFAULT '',
  `guid` VARCHAR(64) NOT NULL DEFAULT '',
  `l1` VARCHAR(128) NOT NULL DEFAULT '',
  `l2` VARCHAR(128) NOT NULL DEFAULT '',
  `l3` VARCHAR(128) NOT NULL DEFAULT '',
  `d1` VARCHAR(255) NOT NULL DEFAULT '',
  `d2` VARCHAR(255) NOT NULL DEFAULT '',
  `comment` TEXT NOT NULL,
  `schedule` DATETIME,
  `camptoreschedule` VARCHAR(128) NOT NULL DEFAULT '',
  `tag` VARCHAR(128) NOT NULL DEFAULT '',
  PRIMARY KEY (`id`),
  KEY `ix_dispositions_guid` (`guid`),
  KEY `ix_dispositions_campaign_datetime` (`campaign`, `datetime`),
  KEY `ix_dispositions_schedule` (`schedule`)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

"""企业微信 (WeCom): a self-built app's authorisation and what it brings in.

- corps: 授权设置 (corp id, agent id, secrets sealed at rest) and the API clients;
- client/tokens: the server API with access_token and ticket caching, retries, errcode → PlatformError;
- sync + sync_org/sync_tags/sync_contacts/sync_groups: 立即同步 per kind (fetch first, then one
  write transaction applying the diff), linking (which customer a contact is);
- callbacks/changes: the encrypted callback endpoint's checks, and re-fetch + diff + ledger event
  per accepted push (events: wecom.contact_added / _edited / _deleted, wecom.chat_changed);
- sidebar: JS-SDK signatures and the sidebar's signed session (the portrait itself is in web/).
"""

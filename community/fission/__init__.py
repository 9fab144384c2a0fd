"""裂变活动: campaigns (邀请有礼, 群裂变, 拼团, 分销裂变), participants with personal posters, invitations
attributed from phone reports or the H5, anti-fraud, hold-period settlement and reward stages."""

"""Chinese names of the tables and actions that appear in the audit log. Unknown codes are
shown as they are, so a capability that logs a new action is never hidden."""

TABLES = {
    "inspection": "检查", "checklist_answer": "检查项", "guard_check": "保安员核查",
    "finding": "问题", "photo": "照片", "unit": "单位", "site": "服务目标", "guard": "保安员",
    "guard_card": "保安员证卡", "training_record": "培训记录", "app_user": "用户",
    "rectification_order": "整改通知", "clue_referral": "线索移交", "spot_check_draw": "双随机抽查",
    "weekly_report": "周报", "ledger": "台账",
}

ACTIONS = {
    "create": "新建", "update": "修改", "delete": "删除", "answer": "填写检查项",
    "add_guard": "添加在岗人员", "remove_guard": "移除在岗人员", "submit": "提交",
    "upload": "上传照片", "review": "审核", "finish_review": "完成审核", "import": "导入",
    "portrait": "采集人像", "issue": "制发", "revoke": "注销", "set_password": "重设密码",
    "export": "导出",
}


def table_label(code: str) -> str:
    return TABLES.get(code, code)


def action_label(code: str) -> str:
    return ACTIONS.get(code, code)

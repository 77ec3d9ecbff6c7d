/**
 * The shipped sensitive-word lists: text containing one of these is held for a moderator rather
 * than published. Kept short and aimed at spam and abuse; an operator adds their own with
 * COMMUNITY_SENSITIVE_WORDS_FILE. Entries are compared after `matchForm` (NFKC, lower case).
 */
export const SENSITIVE_WORDS_ZH: readonly string[] = [
  '代开发票',
  '办证',
  '刷单',
  '网络赌博',
  '六合彩',
  '色情服务',
  '私服外挂',
  '高利贷',
  '枪支出售',
  '加微信领取',
];

export const SENSITIVE_WORDS_EN: readonly string[] = [
  'buy followers',
  'casino bonus',
  'free crypto',
  'cheap viagra',
  'click here to win',
  'escort service',
  'payday loan',
  'fake diploma',
  'wire me money',
  'kill yourself',
];

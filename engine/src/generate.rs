//! A deterministic generator of synthetic plan corpora, for benchmarks and
//! scale tests: per municipality one top plan (総合計画) and several
//! sectoral plans, written as plan files in the documented format
//! (docs/plan-format.md) with the mix of the real seeds — directions,
//! baselines and yearly actuals, no-value tokens, cumulative, monitoring,
//! to-be-set and qualitative targets, era years, re-listed projects,
//! `same_as` links to the top plan, two-part indicators and revision
//! markers.
//!
//! The same [`CorpusSpec`] always writes the same bytes (own splitmix64
//! PRNG, one stream per municipality, so municipalities are generated in
//! parallel without changing the output). Every generated corpus loads
//! with zero diagnostics; the unit test below holds it to that.
//!
//! What it must not do: read plan files, depend on the loader's internals,
//! or go through serde (TOML is written as text, which is what makes
//! generating a million indicators take seconds). It writes only below the
//! directory it is given, each file under a hidden temporary name first
//! and then renamed, so a half-written corpus never looks complete. It
//! never deletes anything: give it an empty (or dedicated) directory.

use std::fmt::Write as _;
use std::io;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

/// The number of municipalities of Japan (市町村, 2024), the size of the
/// full-scale corpus.
pub const MUNICIPALITIES_OF_JAPAN: u32 = 1741;

/// What to generate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CorpusSpec {
    /// Seed of the PRNG: the same spec writes the same bytes.
    pub seed: u64,
    /// How many municipalities (1 ..= any; 1,741 is Japan).
    pub municipalities: u32,
    /// Indicators per municipality, over all its plans (about 1,000 in the
    /// real corpus).
    pub indicators_per_municipality: u32,
    /// Sectoral plans per municipality besides its top plan.
    pub sectoral_plans: u32,
}

impl CorpusSpec {
    /// The realistic default mix for `municipalities` municipalities:
    /// 1,000 indicators each, over a top plan and 5 sectoral plans.
    pub fn new(municipalities: u32) -> Self {
        CorpusSpec {
            seed: 0x6879_6f6b_6120_6265, // "hyoka be"
            municipalities,
            indicators_per_municipality: 1000,
            sectoral_plans: 5,
        }
    }

    /// Files the spec writes: one per plan.
    pub fn files(&self) -> u64 {
        self.municipalities as u64 * (1 + self.sectoral_plans as u64)
    }
}

impl Default for CorpusSpec {
    fn default() -> Self {
        CorpusSpec::new(10)
    }
}

/// What [`generate`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct GenStats {
    pub municipalities: u64,
    pub files: u64,
    pub plans: u64,
    pub goals: u64,
    pub policies: u64,
    pub measures: u64,
    pub projects: u64,
    pub indicators: u64,
    /// Indicators carrying a `same_as` link to the top plan.
    pub links: u64,
    /// Bytes of TOML written.
    pub bytes: u64,
}

impl GenStats {
    fn add(mut self, o: GenStats) -> GenStats {
        self.municipalities += o.municipalities;
        self.files += o.files;
        self.plans += o.plans;
        self.goals += o.goals;
        self.policies += o.policies;
        self.measures += o.measures;
        self.projects += o.projects;
        self.indicators += o.indicators;
        self.links += o.links;
        self.bytes += o.bytes;
        self
    }
}

/// The directory of municipality `index` (0-based) below the output
/// directory, and the prefix of its plan ids.
pub fn municipality_code(index: u32) -> String {
    format!("m{:04}", index + 1)
}

/// Writes the corpus of `spec` below `out_dir` (created if missing): one
/// directory per municipality (`m0001/`, …), one `*.toml` per plan.
/// Municipalities are generated in parallel on the current rayon pool.
pub fn generate(out_dir: &Path, spec: &CorpusSpec) -> io::Result<GenStats> {
    std::fs::create_dir_all(out_dir)?;
    (0..spec.municipalities)
        .into_par_iter()
        .map(|i| {
            let mut muni = Municipality::new(spec, i);
            muni.write_all(out_dir)?;
            Ok(muni.stats)
        })
        .try_reduce(GenStats::default, |a, b| Ok(a.add(b)))
}

/// Generates the plan files of one municipality in memory, as
/// `(file name, text)`, without writing anything.
pub fn generate_municipality(spec: &CorpusSpec, index: u32) -> (Vec<(String, String)>, GenStats) {
    let mut muni = Municipality::new(spec, index);
    let files = muni.texts();
    (files, muni.stats)
}

// ---------------------------------------------------------------------------
// PRNG
// ---------------------------------------------------------------------------

/// splitmix64: tiny, fast, and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Self {
        let mut r = Rng(seed ^ 0x9E37_79B9_7F4A_7C15);
        r.next_u64();
        r
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next_u64() as u128 * n as u128) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi);
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille / 1000`.
    fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---------------------------------------------------------------------------
// Vocabulary
// ---------------------------------------------------------------------------

const PREFECTURES: &[&str] = &[
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
];

const NAME_HEAD: &[&str] = &[
    "北", "南", "東", "西", "大", "小", "高", "中", "新", "上", "下", "本", "長", "富", "松", "桜",
    "若", "白", "黒", "青", "宮", "川", "山", "森", "石", "竹", "梅", "鶴", "亀", "金",
];

const NAME_TAIL: &[&str] = &[
    "川", "山", "田", "野", "原", "沢", "島", "浜", "崎", "岡", "谷", "瀬", "津", "浦", "里", "井",
    "坂", "橋", "見", "部", "城", "木", "平", "尾", "根", "江", "戸", "丘", "倉", "宿",
];

const DEPARTMENTS: &[&str] = &[
    "政策企画課",
    "財政課",
    "総務課",
    "市民協働課",
    "地域振興課",
    "健康づくり課",
    "保険年金課",
    "高齢福祉課",
    "障がい福祉課",
    "こども家庭課",
    "保育課",
    "子育て支援課",
    "学校教育課",
    "生涯学習課",
    "文化振興課",
    "スポーツ振興課",
    "観光課",
    "商工課",
    "農政課",
    "林務課",
    "水産課",
    "環境政策課",
    "廃棄物対策課",
    "都市計画課",
    "道路課",
    "公園緑地課",
    "交通政策課",
    "上下水道課",
    "危機管理課",
    "消防本部総務課",
    "DX推進課",
    "広報広聴課",
    "男女共同参画課",
    "移住定住促進課",
    "企業誘致課",
    "住宅課",
];

/// A field of sectoral planning: its plan name, short id, kind and the
/// topics its indicators measure.
struct Field {
    key: &'static str,
    plan: &'static str,
    kind: &'static str,
    topics: &'static [&'static str],
}

const FIELDS: &[Field] = &[
    Field {
        key: "kenkou",
        plan: "健康増進計画",
        kind: "sectoral",
        topics: &[
            "特定健康診査",
            "がん検診",
            "健康教室",
            "食生活改善推進員",
            "ウォーキング教室",
            "歯科健診",
            "健康相談",
            "介護予防教室",
        ],
    },
    Field {
        key: "kosodate",
        plan: "子ども・子育て支援事業計画",
        kind: "sectoral",
        topics: &[
            "乳幼児健診",
            "子育て支援センター",
            "放課後児童クラブ",
            "ファミリー・サポート",
            "一時預かり",
            "病児保育",
            "子ども食堂",
            "家庭訪問",
        ],
    },
    Field {
        key: "kankyo",
        plan: "環境基本計画",
        kind: "sectoral",
        topics: &[
            "環境学習講座",
            "資源回収",
            "太陽光発電設備",
            "公共施設LED化",
            "緑化活動",
            "環境美化活動",
            "フードロス削減",
            "清掃活動",
        ],
    },
    Field {
        key: "kanko",
        plan: "観光振興計画",
        kind: "sectoral",
        topics: &[
            "観光案内所",
            "観光イベント",
            "宿泊施設",
            "体験型観光プログラム",
            "外国人観光客向け案内",
            "ふるさと納税",
            "観光ボランティアガイド",
            "物産展",
        ],
    },
    Field {
        key: "sangyo",
        plan: "産業振興計画",
        kind: "sectoral",
        topics: &[
            "創業支援",
            "企業誘致",
            "新規就農",
            "6次産業化",
            "事業承継相談",
            "販路開拓支援",
            "商店街イベント",
            "テレワーク拠点",
        ],
    },
    Field {
        key: "fukushi",
        plan: "地域福祉計画",
        kind: "sectoral",
        topics: &[
            "民生委員訪問",
            "見守りネットワーク",
            "福祉ボランティア",
            "サロン活動",
            "成年後見制度",
            "生活困窮者相談",
            "認知症サポーター養成講座",
            "地域包括支援センター",
        ],
    },
    Field {
        key: "kyoiku",
        plan: "教育振興基本計画",
        kind: "sectoral",
        topics: &[
            "図書館",
            "学校図書室",
            "英語教育",
            "ICT活用授業",
            "公民館講座",
            "読み聞かせ",
            "部活動地域移行",
            "学校支援ボランティア",
        ],
    },
    Field {
        key: "kyodo",
        plan: "協働推進基本計画",
        kind: "sectoral",
        topics: &[
            "出前講座",
            "市民活動サポートセンター",
            "町内会活動",
            "パブリックコメント",
            "協働事業提案",
            "NPO法人",
            "まちづくり懇談会",
            "市民ボランティア",
        ],
    },
    Field {
        key: "sousei",
        plan: "まち・ひと・しごと創生総合戦略",
        kind: "strategy",
        topics: &[
            "移住相談",
            "お試し住宅",
            "婚活イベント",
            "UIJターン就職",
            "関係人口",
            "サテライトオフィス",
            "地域おこし協力隊",
            "空き家バンク",
        ],
    },
    Field {
        key: "dx",
        plan: "DX推進計画",
        kind: "sectoral",
        topics: &[
            "オンライン申請",
            "キャッシュレス決済",
            "マイナンバーカード",
            "公衆無線LAN",
            "RPA",
            "デジタル活用支援講座",
            "電子契約",
            "オープンデータ",
        ],
    },
    Field {
        key: "bousai",
        plan: "国土強靱化地域計画",
        kind: "sectoral",
        topics: &[
            "自主防災組織",
            "防災訓練",
            "避難所",
            "防災士",
            "耐震診断",
            "ハザードマップ",
            "備蓄倉庫",
            "防災メール",
        ],
    },
    Field {
        key: "bunka",
        plan: "文化芸術振興計画",
        kind: "sectoral",
        topics: &[
            "文化ホール",
            "美術館",
            "文化財",
            "伝統芸能",
            "市民文化祭",
            "アウトリーチ事業",
            "郷土資料館",
            "文化団体",
        ],
    },
];

/// The top plan's fields of policy: its goals draw on all of them.
const TOP_TOPICS: &[&str] = &[
    "市民意識調査",
    "転入者",
    "合計特殊出生率",
    "市税",
    "公共施設",
    "市民協働",
    "地域公共交通",
    "企業立地",
    "観光入込客",
    "待機児童",
    "健康寿命",
    "ごみ",
    "自治会",
    "図書館",
    "避難所",
    "デジタル手続",
];

/// How an indicator is measured: name suffix, unit, value range (in units
/// of `10^-scale`), decimals and its usual direction.
struct Metric {
    suffix: &'static str,
    unit: &'static str,
    lo: i64,
    hi: i64,
    scale: u8,
    decrease: bool,
}

const METRICS: &[Metric] = &[
    Metric {
        suffix: "受診率",
        unit: "%",
        lo: 150,
        hi: 750,
        scale: 1,
        decrease: false,
    },
    Metric {
        suffix: "満足度",
        unit: "%",
        lo: 300,
        hi: 800,
        scale: 1,
        decrease: false,
    },
    Metric {
        suffix: "参加率",
        unit: "%",
        lo: 50,
        hi: 600,
        scale: 1,
        decrease: false,
    },
    Metric {
        suffix: "参加者数",
        unit: "人",
        lo: 30,
        hi: 12000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "延べ利用者数",
        unit: "人",
        lo: 200,
        hi: 90000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "登録者数",
        unit: "人",
        lo: 10,
        hi: 3000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "開催回数",
        unit: "回",
        lo: 2,
        hi: 240,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "実施件数",
        unit: "件",
        lo: 5,
        hi: 2500,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "相談件数",
        unit: "件",
        lo: 10,
        hi: 4000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "登録団体数",
        unit: "団体",
        lo: 3,
        hi: 300,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "設置箇所数",
        unit: "箇所",
        lo: 1,
        hi: 150,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "関連事業費",
        unit: "百万円",
        lo: 10,
        hi: 9000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "経由の販売額",
        unit: "百万円",
        lo: 50,
        hi: 30000,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "の1人1日あたり排出量",
        unit: "g",
        lo: 650,
        hi: 1150,
        scale: 0,
        decrease: true,
    },
    Metric {
        suffix: "の未利用率",
        unit: "%",
        lo: 20,
        hi: 400,
        scale: 1,
        decrease: true,
    },
    Metric {
        suffix: "に関する苦情件数",
        unit: "件",
        lo: 5,
        hi: 600,
        scale: 0,
        decrease: true,
    },
    Metric {
        suffix: "参加企業数",
        unit: "社",
        lo: 2,
        hi: 200,
        scale: 0,
        decrease: false,
    },
    Metric {
        suffix: "の評価点",
        unit: "点",
        lo: 400,
        hi: 850,
        scale: 1,
        decrease: false,
    },
];

const GOAL_NAMES: &[&str] = &[
    "誰もが健やかに暮らせるまちづくり",
    "子どもを安心して産み育てられるまちづくり",
    "活力ある産業と雇用を生み出すまちづくり",
    "豊かな自然と共生する持続可能なまちづくり",
    "安全・安心で災害に強いまちづくり",
    "学びと文化が息づくまちづくり",
    "市民と行政が協働するまちづくり",
    "快適で便利な都市基盤のまちづくり",
    "選ばれ住み続けたいと思えるまちづくり",
    "デジタルで暮らしが便利になるまちづくり",
];

const POLICY_VERBS: &[&str] = &[
    "の推進",
    "の充実",
    "の強化",
    "の促進",
    "の支援",
    "の確保",
    "の向上",
    "の整備",
];

const MEASURE_OBJECTS: &[&str] = &[
    "相談体制",
    "人材育成",
    "情報発信",
    "拠点施設",
    "地域連携",
    "担い手確保",
    "利用環境",
    "普及啓発",
    "参加機会",
    "基盤整備",
];

const PROJECT_SUFFIXES: &[&str] = &[
    "推進事業",
    "支援事業",
    "運営事業",
    "整備事業",
    "啓発事業",
    "補助事業",
    "プロジェクト",
    "モデル事業",
];

const CATEGORIES: &[&str] = &[
    "研修・講座(職員)",
    "研修・講座(住民)",
    "情報発信",
    "事業補助",
    "インフラ",
    "広域利用",
    "産業振興",
    "その他",
];

const REVIEW_OUTCOMES: &[&str] = &["現状維持", "改革改善", "拡充", "縮小", "統合", "廃止"];

const SOURCES: &[&str] = &[
    "市民意識調査",
    "業務統計",
    "事業実績報告",
    "住民基本台帳",
    "国勢調査",
    "観光統計",
];

const QUALITATIVE: &[&str] = &[
    "整備完了",
    "計画策定",
    "供用開始",
    "全校で実施",
    "運用開始",
    "制度創設",
];

const TARGET_DIFFERS: &[&str] = &[
    "分野別計画の策定時に上方修正",
    "計画期間が異なるため目標年度の値が異なる",
    "分野別計画では対象範囲を拡大",
];

const PARTS: &[(&str, &str)] = &[("小6", "中3"), ("男性", "女性"), ("市内", "市外")];

/// The last year with actuals in the synthetic corpus.
const CURRENT_YEAR: i32 = 2024;

// ---------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------

/// How a plan writes its years: as the seeds do, mostly Gregorian
/// integers, some plans in era years, some as `"2025年度"`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum YearStyle {
    Int,
    Era,
    Nendo,
}

/// A decimal value: `mantissa × 10^-scale`.
#[derive(Clone, Copy)]
struct Num {
    mantissa: i64,
    scale: u8,
}

fn write_num(out: &mut String, n: Num) {
    if n.scale == 0 {
        let _ = write!(out, "{}", n.mantissa);
        return;
    }
    let p = 10i64.pow(n.scale as u32);
    let sign = if n.mantissa < 0 { "-" } else { "" };
    let m = n.mantissa.unsigned_abs() as i64;
    let _ = write!(out, "{sign}{}.{:0w$}", m / p, m % p, w = n.scale as usize);
}

/// Appends `s` as a TOML basic string.
fn write_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// `key = "value"\n`
fn kv_str(out: &mut String, key: &str, value: &str) {
    out.push_str(key);
    out.push_str(" = ");
    write_str(out, value);
    out.push('\n');
}

/// One top-plan indicator that sectoral plans may link to with `same_as`.
struct Linkable {
    id: String,
    name: String,
    unit: &'static str,
    direction: &'static str,
    /// The target's inline table exactly as the top plan writes it.
    target: String,
    /// A different target, for links that declare `target_differs`.
    other_target: String,
}

/// One plan being written.
struct PlanGen<'s> {
    id: String,
    style: YearStyle,
    from: i32,
    to: i32,
    departments: Vec<&'static str>,
    topics: &'s [&'static str],
    out: String,
    next_policy: u32,
    next_measure: u32,
    next_project: u32,
    /// Projects written so far: (id, name), for `relisted_from`.
    projects: Vec<(u32, String)>,
}

struct Municipality<'a> {
    spec: &'a CorpusSpec,
    index: u32,
    code: String,
    name: String,
    prefecture: usize,
    rng: Rng,
    stats: GenStats,
    /// The id of the top plan, written first; sectoral plans name it as
    /// their parent and link to its indicators.
    top_id: String,
    linkable: Vec<Linkable>,
}

impl<'a> Municipality<'a> {
    fn new(spec: &'a CorpusSpec, index: u32) -> Self {
        let mut rng = Rng::new(spec.seed ^ (index as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93));
        let head = NAME_HEAD[index as usize % NAME_HEAD.len()];
        let tail =
            NAME_TAIL[(index as usize / NAME_HEAD.len() + 7 * index as usize) % NAME_TAIL.len()];
        let suffix = match rng.below(100) {
            0..=44 => "市",
            45..=87 => "町",
            _ => "村",
        };
        Municipality {
            spec,
            index,
            code: municipality_code(index),
            name: format!("{head}{tail}{suffix}"),
            prefecture: index as usize % PREFECTURES.len(),
            rng,
            stats: GenStats {
                municipalities: 1,
                ..GenStats::default()
            },
            top_id: String::new(),
            linkable: Vec::new(),
        }
    }

    fn write_all(&mut self, out_dir: &Path) -> io::Result<()> {
        let dir = out_dir.join(&self.code);
        std::fs::create_dir_all(&dir)?;
        for (name, text) in self.texts() {
            write_atomically(&dir, &name, &text)?;
        }
        Ok(())
    }

    /// Every plan of the municipality as `(file name, text)`.
    fn texts(&mut self) -> Vec<(String, String)> {
        let total = self.spec.indicators_per_municipality as u64;
        let sectoral = self.spec.sectoral_plans as u64;
        // The top plan carries about 30 % of the indicators, the sectoral
        // plans share the rest evenly.
        let top_share = if sectoral == 0 { total } else { total * 3 / 10 };
        let mut files = Vec::with_capacity(1 + sectoral as usize);
        let top = self.top_plan(top_share as u32);
        files.push(top);
        let rest = total - top_share;
        let start = self.rng.below(FIELDS.len() as u64) as usize;
        for s in 0..sectoral {
            let n = rest / sectoral + u64::from(s < rest % sectoral);
            let field = &FIELDS[(start + s as usize) % FIELDS.len()];
            // Beyond the list of fields, a field comes round again as the
            // next edition of its plan.
            let edition = 1 + (s as usize / FIELDS.len());
            files.push(self.sectoral_plan(field, edition, n as u32));
        }
        for (_, text) in &files {
            self.stats.bytes += text.len() as u64;
        }
        self.stats.files += files.len() as u64;
        self.stats.plans += files.len() as u64;
        files
    }

    fn year_style(&mut self) -> YearStyle {
        match self.rng.below(100) {
            0..=59 => YearStyle::Int,
            60..=89 => YearStyle::Era,
            _ => YearStyle::Nendo,
        }
    }

    fn pick_departments(&mut self, n: usize) -> Vec<&'static str> {
        let start = self.rng.below(DEPARTMENTS.len() as u64) as usize;
        let step = 1 + self.rng.below(5) as usize;
        let mut v: Vec<&'static str> = Vec::with_capacity(n);
        let mut i = start;
        while v.len() < n {
            let d = DEPARTMENTS[i % DEPARTMENTS.len()];
            if !v.contains(&d) {
                v.push(d);
            }
            i += step;
            if i > start + DEPARTMENTS.len() * 6 {
                break;
            }
        }
        v
    }

    fn top_plan(&mut self, indicators: u32) -> (String, String) {
        let edition = self.rng.range(2, 7);
        let from = self.rng.range(2016, 2022) as i32;
        let to = from + 9;
        let style = self.year_style();
        let departments = self.pick_departments(8);
        let id = format!("{}-sougou-{edition}", self.code);
        self.top_id = id.clone();
        let mut p = PlanGen::new(id, style, from, to, departments, TOP_TOPICS);
        let plan_name = format!("第{edition}次{}総合計画", self.name);
        let _ = writeln!(
            p.out,
            "# {plan_name}（{from}年度～{to}年度）\n# 合成データ: hyoka の性能測定用に生成したもの（実在の計画ではない）。\n# 基本構想・基本計画の成果指標を、基本目標 → 施策の方向 → 施策 → 事業 の体系で転記。\n"
        );
        p.out.push_str("[plan]\n");
        kv_str(&mut p.out, "id", &p.id);
        kv_str(&mut p.out, "name", &plan_name);
        kv_str(&mut p.out, "municipality", &self.name);
        kv_str(&mut p.out, "kind", "top");
        p.period_line(&mut self.rng);
        if self.rng.chance(50) {
            kv_str(&mut p.out, "year_basis", "calendar");
        } else {
            kv_str(&mut p.out, "year_basis", "fiscal");
        }
        let external = self.rng.chance(330);
        let pref = PREFECTURES[self.prefecture];
        let pref_id = format!("pref{:02}-sougou", self.prefecture + 1);
        if external {
            kv_str(&mut p.out, "parent", &pref_id);
        }
        p.departments_line();
        kv_str(&mut p.out, "grade_scale", "abc");
        if self.rng.chance(600) {
            let mid = from + 5;
            p.out.push_str("revisions = [\n  { year = ");
            p.year(&mut self.rng, mid);
            let _ = writeln!(
                p.out,
                ", note = \"後期基本計画の策定（{mid}年度～{to}年度）に伴う中間見直し\" }},\n]"
            );
        }
        let _ = writeln!(
            p.out,
            "source = {{ document = \"{}-sougou-{edition}.pdf\", section = \"第3部 基本計画 成果指標一覧\" }}",
            self.code
        );
        kv_str(
            &mut p.out,
            "note",
            "市の最上位計画。基本構想で将来都市像を定め、基本計画で施策ごとの成果指標と目標値を定める。",
        );
        p.out.push('\n');
        if external {
            // The prefecture's plan, declared alike by each of its
            // municipalities that names it.
            p.out.push_str("[[external_plan]]\n");
            kv_str(&mut p.out, "id", &pref_id);
            kv_str(&mut p.out, "name", &format!("{pref}総合計画"));
            p.out.push_str("period = { from = 2021, to = 2030 }\n\n");
        }
        self.stats.indicators += self.tree(&mut p, indicators, true) as u64;
        if self.rng.chance(200) {
            self.recorded_summary(&mut p);
        }
        let name = format!("{}.toml", p.id);
        (name, p.out)
    }

    fn sectoral_plan(
        &mut self,
        field: &Field,
        edition: usize,
        indicators: u32,
    ) -> (String, String) {
        let edition = edition + self.rng.below(3) as usize;
        let from = self.rng.range(2018, 2023) as i32;
        let to = from + self.rng.range(4, 5) as i32;
        let style = self.year_style();
        let n = 3 + self.rng.below(5) as usize;
        let departments = self.pick_departments(n);
        let id = format!("{}-{}-{edition}", self.code, field.key);
        let mut p = PlanGen::new(id, style, from, to, departments, field.topics);
        let plan_name = format!("第{edition}次{}{}", self.name, field.plan);
        let _ = writeln!(
            p.out,
            "# {plan_name}（{from}年度～{to}年度）\n# 合成データ: hyoka の性能測定用に生成したもの（実在の計画ではない）。\n"
        );
        p.out.push_str("[plan]\n");
        kv_str(&mut p.out, "id", &p.id);
        kv_str(&mut p.out, "name", &plan_name);
        kv_str(&mut p.out, "municipality", &self.name);
        kv_str(&mut p.out, "kind", field.kind);
        p.period_line(&mut self.rng);
        if self.rng.chance(80) {
            kv_str(&mut p.out, "year_basis", "calendar");
        }
        // The top plan of the same municipality is the parent (上位計画).
        kv_str(&mut p.out, "parent", &self.top_id);
        p.departments_line();
        if self.rng.chance(700) {
            kv_str(&mut p.out, "grade_scale", "abc");
        }
        if to - from >= 5 && self.rng.chance(250) {
            p.out.push_str("revisions = [\n  { year = ");
            p.year(&mut self.rng, from + 3);
            p.out
                .push_str(", note = \"中間見直し: 指標及び目標値の一部を修正\" },\n]\n");
        }
        p.out.push('\n');
        self.stats.indicators += self.tree(&mut p, indicators, false) as u64;
        let name = format!("{}.toml", p.id);
        (name, p.out)
    }

    /// Goals → policies → measures → projects, with `budget` indicators
    /// spread over measures and projects. Returns the indicators written.
    fn tree(&mut self, p: &mut PlanGen<'_>, budget: u32, top: bool) -> u32 {
        let mut written = 0u32;
        // A few overall indicators (全体指標) hang from the plan itself.
        let overall = (budget / 40).min(4);
        if overall > 0 {
            p.out.push_str("# 全体指標\n\n");
        }
        for k in 1..=overall {
            let id = format!("O-{k}");
            written += self.indicator(p, &id, None, IndicatorRole::Outcome, top, None);
        }
        let mut goal_no = 0usize;
        while written < budget {
            goal_no += 1;
            self.stats.goals += 1;
            let goal_id = format!("G{goal_no}");
            let goal_name = GOAL_NAMES[(goal_no - 1 + self.index as usize) % GOAL_NAMES.len()];
            let _ = writeln!(
                p.out,
                "# ---------------------------------------------------------------------------\n# 基本目標{goal_no}\n# ---------------------------------------------------------------------------\n"
            );
            p.out.push_str("[[goal]]\n");
            kv_str(&mut p.out, "id", &goal_id);
            kv_str(&mut p.out, "name", goal_name);
            p.out.push('\n');
            let policies = self.rng.range(2, 4);
            for _ in 0..policies {
                if written >= budget {
                    break;
                }
                p.next_policy += 1;
                self.stats.policies += 1;
                let policy_id = format!("P{}", p.next_policy);
                let topic = *self.rng.pick(p.topics);
                let verb = *self.rng.pick(POLICY_VERBS);
                p.out.push_str("[[policy]]\n");
                kv_str(&mut p.out, "id", &policy_id);
                kv_str(&mut p.out, "under", &goal_id);
                kv_str(&mut p.out, "name", &format!("{topic}{verb}"));
                p.out.push('\n');
                let measures = self.rng.range(2, 4);
                for _ in 0..measures {
                    if written >= budget {
                        break;
                    }
                    written += self.measure(p, &policy_id, budget - written, top);
                }
            }
        }
        written
    }

    fn measure(&mut self, p: &mut PlanGen<'_>, policy_id: &str, left: u32, top: bool) -> u32 {
        p.next_measure += 1;
        self.stats.measures += 1;
        let m = p.next_measure;
        let measure_id = format!("M{m}");
        let topic = *self.rng.pick(p.topics);
        let object = *self.rng.pick(MEASURE_OBJECTS);
        p.out.push_str("[[measure]]\n");
        kv_str(&mut p.out, "id", &measure_id);
        kv_str(&mut p.out, "under", policy_id);
        kv_str(
            &mut p.out,
            "name",
            &format!("{topic}における{object}の充実"),
        );
        if self.rng.chance(150) {
            kv_str(&mut p.out, "note", "施策の方向性は前期計画を継承");
        }
        p.out.push('\n');
        // Measure indicators (成果指標), then projects with their KPIs.
        let own = (self.rng.range(1, 3) as u32).min(left);
        let mut written = self.indicator_run(
            p,
            &measure_id,
            &measure_id,
            (1, own),
            IndicatorRole::Outcome,
            top,
        );
        let projects = self.rng.range(0, 3);
        for _ in 0..projects {
            if written >= left {
                break;
            }
            let project_id = self.project(p, &measure_id);
            let kpis = (self.rng.range(1, 3) as u32).min(left - written);
            let prefix = format!("J{project_id}");
            let under = project_id.to_string();
            written +=
                self.indicator_run(p, &under, &prefix, (1, kpis), IndicatorRole::Output, top);
        }
        // A measure without projects still gets a few indicators.
        if written < left && projects == 0 {
            let more = (self.rng.range(1, 3) as u32).min(left - written);
            written += self.indicator_run(
                p,
                &measure_id,
                &measure_id,
                (own + 1, more),
                IndicatorRole::Outcome,
                top,
            );
        }
        written
    }

    /// `ids.1` indicators under `under`, with ids `{prefix}-{ids.0}` …
    fn indicator_run(
        &mut self,
        p: &mut PlanGen<'_>,
        under: &str,
        prefix: &str,
        (first, count): (u32, u32),
        role: IndicatorRole,
        top: bool,
    ) -> u32 {
        let mut k = 0;
        while k < count {
            let n = first + k;
            let id = format!("{prefix}-{n}");
            let left = count - k;
            // A two-part indicator (56.6 %（小6） 35.0 %（中3）) is two.
            if left >= 2 && self.rng.chance(15) {
                let next = format!("{prefix}-{}", n + 1);
                k += self.two_part(p, &id, &next, under);
                continue;
            }
            // An early-period indicator replaced by the next one.
            let replaced_by = if left >= 2 && self.rng.chance(12) {
                Some(format!("{prefix}-{}", n + 1))
            } else {
                None
            };
            k += self.indicator(p, &id, Some(under), role, top, replaced_by.as_deref());
        }
        count
    }

    fn project(&mut self, p: &mut PlanGen<'_>, measure_id: &str) -> u32 {
        p.next_project += 1;
        self.stats.projects += 1;
        let n = p.next_project;
        // Re-listed (再掲) project: same name as an earlier one.
        let relisted = if p.projects.len() > 3 && self.rng.chance(30) {
            let (orig, name) = p.projects[self.rng.below(p.projects.len() as u64) as usize].clone();
            Some((orig, name))
        } else {
            None
        };
        let name = match &relisted {
            Some((_, name)) => name.clone(),
            None => {
                let topic = *self.rng.pick(p.topics);
                let suffix = *self.rng.pick(PROJECT_SUFFIXES);
                format!("{topic}{suffix}")
            }
        };
        p.out.push_str("[[project]]\n");
        let _ = writeln!(
            p.out,
            "id = \"{n}\"\nunder = \"{measure_id}\"\nnumber = \"{n}\""
        );
        kv_str(&mut p.out, "name", &name);
        if let Some((orig, _)) = &relisted {
            let _ = writeln!(p.out, "relisted_from = \"{orig}\"   # 再掲");
        } else {
            p.projects.push((n, name));
        }
        if self.rng.chance(700) {
            let category = *self.rng.pick(CATEGORIES);
            kv_str(&mut p.out, "category", category);
        }
        let status = match self.rng.below(100) {
            0..=14 => "new",
            15..=19 => "completed",
            _ => "continuing",
        };
        if status != "continuing" || self.rng.chance(300) {
            kv_str(&mut p.out, "status", status);
        }
        if self.rng.chance(500) {
            let a = self.rng.range(1, 17);
            let b = self.rng.range(1, 17);
            if a == b {
                let _ = writeln!(p.out, "sdgs = [{a}]");
            } else {
                let _ = writeln!(p.out, "sdgs = [{}, {}]", a.min(b), a.max(b));
            }
        }
        if !p.departments.is_empty() {
            let d = *self.rng.pick(&p.departments);
            kv_str(&mut p.out, "department", d);
        }
        if self.rng.chance(600) {
            p.out.push_str("costs = [\n");
            let years = self.rng.range(1, 3) as i32;
            let first = (CURRENT_YEAR - years + 1).max(p.from);
            let base = self.rng.range(100, 50000);
            for y in first..=CURRENT_YEAR {
                p.out.push_str("  { year = ");
                p.year(&mut self.rng, y);
                let v = base + self.rng.range(-base / 10, base / 10);
                let _ = writeln!(p.out, ", value = {v}, unit = \"千円\" }},");
            }
            p.out.push_str("]\n");
        }
        if self.rng.chance(400) {
            let y = (CURRENT_YEAR - 1).max(p.from);
            p.out.push_str("reviews = [ { year = ");
            p.year(&mut self.rng, y);
            let outcome = *self.rng.pick(REVIEW_OUTCOMES);
            let _ = writeln!(p.out, ", outcome = \"{outcome}\" }} ]");
        }
        if status == "completed" {
            p.out.push_str("completed_in = ");
            let y = self.rng.range(p.from as i64, CURRENT_YEAR as i64) as i32;
            p.year(&mut self.rng, y);
            p.out.push('\n');
        }
        if relisted.is_some() {
            kv_str(&mut p.out, "note", "（再掲）他の施策にも掲載");
        }
        p.out.push('\n');
        n
    }

    fn two_part(&mut self, p: &mut PlanGen<'_>, a: &str, b: &str, under: &str) -> u32 {
        let (la, lb) = *self.rng.pick(PARTS);
        let topic = *self.rng.pick(p.topics);
        let dept = p.departments.first().copied();
        for (id, label) in [(a, la), (b, lb)] {
            p.out.push_str("[[indicator]]\n");
            kv_str(&mut p.out, "id", id);
            kv_str(&mut p.out, "under", under);
            kv_str(
                &mut p.out,
                "name",
                &format!("{topic}に満足している人の割合（{label}）"),
            );
            p.out
                .push_str("unit = \"%\"\ndirection = \"increase\"\nkind = \"outcome\"\n");
            if let Some(d) = dept {
                kv_str(&mut p.out, "department", d);
            }
            let base = self.rng.range(200, 700);
            p.out.push_str("baseline = { year = ");
            p.year(&mut self.rng, p.from - 1);
            p.out.push_str(", value = ");
            write_num(
                &mut p.out,
                Num {
                    mantissa: base,
                    scale: 1,
                },
            );
            p.out.push_str(" }\nactuals = [\n  { year = ");
            p.year(&mut self.rng, CURRENT_YEAR.max(p.from));
            p.out.push_str(", value = ");
            let v = base + self.rng.range(-40, 80);
            write_num(
                &mut p.out,
                Num {
                    mantissa: v,
                    scale: 1,
                },
            );
            p.out.push_str(" },\n]\ntarget = { year = ");
            p.year(&mut self.rng, p.to);
            p.out.push_str(", value = ");
            write_num(
                &mut p.out,
                Num {
                    mantissa: (base + 100).min(1000),
                    scale: 1,
                },
            );
            p.out.push_str(" }\n");
            let group = format!("{under}-{}", a.rsplit('-').next().unwrap_or("1"));
            let _ = writeln!(
                p.out,
                "part = {{ group = \"{group}\", label = \"{label}\" }}"
            );
            p.out.push('\n');
        }
        2
    }

    /// One indicator. Returns 1.
    fn indicator(
        &mut self,
        p: &mut PlanGen<'_>,
        id: &str,
        under: Option<&str>,
        role: IndicatorRole,
        top: bool,
        replaced_by: Option<&str>,
    ) -> u32 {
        // Sectoral plans restate some top-plan indicators (same_as).
        if !top && !self.linkable.is_empty() && self.rng.chance(40) {
            self.linked_indicator(p, id, under);
            return 1;
        }
        let metric = self.rng.pick(METRICS);
        let topic = *self.rng.pick(p.topics);
        let name = format!("{topic}{}", metric.suffix);
        let shape = match self.rng.below(1000) {
            0..=49 => Shape::Monitoring,
            50..=69 => Shape::SetLater,
            70..=89 => Shape::Qualitative,
            90..=189 => Shape::Cumulative,
            _ => Shape::Plain,
        };
        let direction = match shape {
            Shape::Qualitative => None,
            Shape::Cumulative => Some("increase"),
            _ => Some(match self.rng.below(100) {
                0..=4 => "maintain",
                _ if metric.decrease => "decrease",
                5..=14 => "decrease",
                _ => "increase",
            }),
        };
        let unit = if shape == Shape::Qualitative {
            None
        } else {
            Some(metric.unit)
        };

        p.out.push_str("[[indicator]]\n");
        kv_str(&mut p.out, "id", id);
        if let Some(u) = under {
            kv_str(&mut p.out, "under", u);
        }
        let name = if shape == Shape::Qualitative {
            format!(
                "{topic}の{}",
                self.rng.pick(&["整備", "計画策定", "体制構築"])
            )
        } else if shape == Shape::Cumulative {
            format!("{name}（累計）")
        } else {
            name
        };
        kv_str(&mut p.out, "name", &name);
        if let Some(u) = unit {
            kv_str(&mut p.out, "unit", u);
        }
        if let Some(d) = direction {
            kv_str(&mut p.out, "direction", d);
        }
        if self.rng.chance(600) {
            let kind = match role {
                IndicatorRole::Outcome => "outcome",
                IndicatorRole::Output if self.rng.chance(300) => "activity",
                IndicatorRole::Output => "output",
            };
            kv_str(&mut p.out, "kind", kind);
        }
        if !p.departments.is_empty() && self.rng.chance(850) {
            let d = *self.rng.pick(&p.departments);
            kv_str(&mut p.out, "department", d);
        }
        if self.rng.chance(300) {
            let src = *self.rng.pick(SOURCES);
            kv_str(&mut p.out, "description", &format!("{src}による{name}"));
        }

        let scale = metric.scale;
        let base = self.rng.range(metric.lo, metric.hi);
        let num = |m: i64| Num { mantissa: m, scale };
        let base_year = p.from - 1 - self.rng.below(2) as i32;
        let cap = if metric.unit == "%" { 1000 } else { i64::MAX };
        let target = match direction {
            Some("increase") => (base + base * self.rng.range(5, 40) / 100 + 1).min(cap),
            Some("decrease") => base - base * self.rng.range(5, 40) / 100,
            _ => base,
        };
        let mut target_text = String::new();

        match shape {
            Shape::Qualitative => {
                if self.rng.chance(500) {
                    p.out.push_str("baseline = { year = ");
                    p.year(&mut self.rng, base_year);
                    p.out.push_str(", value = \"—\" }\n");
                }
                let y = self.rng.range((p.from + 1) as i64, p.to as i64) as i32;
                target_text.push_str("{ year = ");
                p.year_into(&mut self.rng, &mut target_text, y);
                let text = *self.rng.pick(QUALITATIVE);
                let _ = write!(target_text, ", text = \"{text}\"");
                if self.rng.chance(300) {
                    let _ = write!(target_text, ", note = \"{y}年度まで\"");
                }
                target_text.push_str(" }");
            }
            Shape::Cumulative => {
                let yearly = (base / 10).max(1);
                if self.rng.chance(500) {
                    p.out.push_str("baseline = { year = ");
                    p.year(&mut self.rng, base_year);
                    p.out.push_str(", value = \"—\" }\n");
                }
                let first = p.from.max(CURRENT_YEAR - 3);
                let mut acc = 0i64;
                p.out.push_str("actuals = [\n");
                for y in first..=CURRENT_YEAR {
                    acc += yearly + self.rng.range(0, yearly);
                    p.out.push_str("  { year = ");
                    p.year(&mut self.rng, y);
                    p.out.push_str(", value = ");
                    if y == CURRENT_YEAR && self.rng.chance(80) {
                        p.out.push_str("\"集計中\"");
                    } else {
                        write_num(&mut p.out, num(acc));
                    }
                    p.out.push_str(" },\n");
                }
                p.out.push_str("]\n");
                let years = (p.to - p.from + 1) as i64;
                target_text.push_str("{ year = ");
                p.year_into(&mut self.rng, &mut target_text, p.to);
                target_text.push_str(", value = ");
                write_num(&mut target_text, num(yearly * years * 3 / 2));
                target_text.push_str(" }");
            }
            _ => {
                p.out.push_str("baseline = { year = ");
                p.year(&mut self.rng, base_year);
                p.out.push_str(", value = ");
                if self.rng.chance(50) {
                    p.out.push_str("\"—\"");
                } else {
                    write_num(&mut p.out, num(base));
                }
                p.out.push_str(" }\n");
                let k = self.rng.range(2, 4) as i32;
                let first = (CURRENT_YEAR - k + 1).max(base_year + 1);
                p.out.push_str("actuals = [\n");
                for y in first..=CURRENT_YEAR {
                    let step = (y - base_year) as i64;
                    let span = (p.to - base_year).max(1) as i64;
                    let trend = base + (target - base) * step / span;
                    let noise = (base / 20).max(1);
                    let v = (trend + self.rng.range(-noise, noise)).clamp(0, cap);
                    p.out.push_str("  { year = ");
                    p.year(&mut self.rng, y);
                    p.out.push_str(", value = ");
                    let roll = self.rng.below(1000);
                    if y == CURRENT_YEAR && roll < 80 {
                        p.out.push_str("\"集計中\"");
                    } else if roll >= 980 {
                        p.out.push_str("\"調査中\"");
                    } else if roll >= 965 {
                        p.out.push_str("\"—\"");
                    } else {
                        write_num(&mut p.out, num(v));
                    }
                    if (955..965).contains(&roll) && y < CURRENT_YEAR {
                        // The value's own year differs from the column's.
                        p.out.push_str(", as_of = ");
                        p.year(&mut self.rng, y + 1);
                    }
                    p.out.push_str(" },\n");
                }
                p.out.push_str("]\n");
                match shape {
                    Shape::Monitoring => {}
                    Shape::SetLater => {
                        target_text.push_str("{ year = ");
                        p.year_into(&mut self.rng, &mut target_text, p.to);
                        target_text.push_str(", set_in = ");
                        let y = (p.from + 2).min(p.to);
                        p.year_into(&mut self.rng, &mut target_text, y);
                        let _ = write!(target_text, ", note = \"目標値は{y}年度に設定\" }}");
                    }
                    _ => {
                        target_text.push_str("{ year = ");
                        p.year_into(&mut self.rng, &mut target_text, p.to);
                        target_text.push_str(", value = ");
                        if self.rng.chance(5) {
                            target_text.push_str("\"設定なし\"");
                        } else {
                            write_num(&mut target_text, num(target));
                        }
                        target_text.push_str(" }");
                    }
                }
            }
        }
        if !target_text.is_empty() {
            p.out.push_str("target = ");
            p.out.push_str(&target_text);
            p.out.push('\n');
        }
        match shape {
            Shape::Cumulative => {
                p.out.push_str("cumulative = true\n");
                if self.rng.chance(600) {
                    p.out.push_str("cumulative_from = ");
                    p.year(&mut self.rng, p.from);
                    p.out.push('\n');
                }
            }
            Shape::Monitoring => p.out.push_str("monitoring = true\n"),
            _ => {}
        }
        if self.rng.chance(25) {
            kv_str(&mut p.out, "year_basis", "calendar");
        }
        // Revision markers.
        if let Some(by) = replaced_by {
            p.out
                .push_str("revisions = [\n  { kind = \"replaced\", year = ");
            p.year(&mut self.rng, p.from + 2);
            let _ = writeln!(
                p.out,
                ", by = \"{by}\", reason = \"より成果を的確に把握できる指標に変更\" }},\n]"
            );
        } else if shape == Shape::Plain && self.rng.chance(20) {
            p.out
                .push_str("revisions = [\n  { kind = \"target-revised\", year = ");
            p.year(&mut self.rng, p.from + 2);
            p.out.push_str(", from = ");
            write_num(&mut p.out, num(base + (target - base) / 2));
            p.out.push_str(", to = ");
            write_num(&mut p.out, num(target));
            p.out
                .push_str(", reason = \"当初目標を達成したため上方修正\" },\n]\n");
        } else if self.rng.chance(15) {
            p.out
                .push_str("revisions = [\n  { kind = \"added\", year = ");
            p.year(&mut self.rng, p.from + 2);
            p.out.push_str(", reason = \"中間見直しで追加\" },\n]\n");
        }
        if self.rng.chance(40) {
            kv_str(&mut p.out, "note", "算定方法を前期計画から変更");
        }
        if self.rng.chance(30) {
            p.out.push_str("# 出典の表では単位が欄外に記載されている\n");
        }
        p.out.push('\n');

        if top && direction.is_some() && !target_text.is_empty() && shape == Shape::Plain {
            let mut other = String::from("{ year = ");
            p.year_into(&mut self.rng, &mut other, p.to);
            other.push_str(", value = ");
            let bumped = if direction == Some("decrease") {
                target - (target / 10).max(1)
            } else {
                (target + (target / 10).max(1)).min(cap)
            };
            write_num(&mut other, num(bumped));
            other.push_str(" }");
            self.linkable.push(Linkable {
                id: id.to_string(),
                name: name.clone(),
                unit: metric.unit,
                direction: direction.unwrap_or("increase"),
                target: target_text,
                other_target: other,
            });
        }
        1
    }

    /// A sectoral indicator that restates a top-plan one, with a
    /// `same_as` link (some with a differing target, declared).
    fn linked_indicator(&mut self, p: &mut PlanGen<'_>, id: &str, under: Option<&str>) {
        let l = &self.linkable[self.rng.below(self.linkable.len() as u64) as usize];
        let differs = self.rng.chance(300);
        p.out.push_str("[[indicator]]\n");
        kv_str(&mut p.out, "id", id);
        if let Some(u) = under {
            kv_str(&mut p.out, "under", u);
        }
        kv_str(&mut p.out, "name", &l.name);
        kv_str(&mut p.out, "unit", l.unit);
        kv_str(&mut p.out, "direction", l.direction);
        p.out.push_str("target = ");
        p.out
            .push_str(if differs { &l.other_target } else { &l.target });
        p.out.push_str("\nsame_as = [\n  { plan = \"");
        p.out.push_str(&self.top_id);
        p.out.push_str("\", indicator = \"");
        p.out.push_str(&l.id);
        if differs {
            let why = TARGET_DIFFERS[self.rng.below(TARGET_DIFFERS.len() as u64) as usize];
            p.out.push_str("\", target_differs = \"");
            p.out.push_str(why);
        }
        p.out.push_str("\" },\n]\n\n");
        self.stats.links += 1;
    }

    fn recorded_summary(&mut self, p: &mut PlanGen<'_>) {
        p.out.push_str("[[recorded_summary]]\nyear = ");
        p.year(&mut self.rng, CURRENT_YEAR - 1);
        p.out
            .push_str("\ntitle = \"成果指標の達成状況\"\nrows = [\n");
        for grade in ["A", "B", "C", "未算出"] {
            let n = self.rng.range(0, 40);
            let _ = writeln!(p.out, "  {{ grade = \"{grade}\", count = {n} }},");
        }
        p.out.push_str("]\nnote = \"市の行政評価報告書による\"\n\n");
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum IndicatorRole {
    /// A measure's or the plan's 成果指標.
    Outcome,
    /// A project's KPI.
    Output,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Plain,
    Cumulative,
    Monitoring,
    SetLater,
    Qualitative,
}

impl<'s> PlanGen<'s> {
    fn new(
        id: String,
        style: YearStyle,
        from: i32,
        to: i32,
        departments: Vec<&'static str>,
        topics: &'s [&'static str],
    ) -> Self {
        PlanGen {
            id,
            style,
            from,
            to,
            departments,
            topics,
            out: String::with_capacity(64 * 1024),
            next_policy: 0,
            next_measure: 0,
            next_project: 0,
            projects: Vec::new(),
        }
    }

    fn period_line(&mut self, rng: &mut Rng) {
        self.out.push_str("period = { from = ");
        let (from, to) = (self.from, self.to);
        self.year(rng, from);
        self.out.push_str(", to = ");
        self.year(rng, to);
        self.out.push_str(" }\n");
    }

    fn departments_line(&mut self) {
        if self.departments.is_empty() {
            return;
        }
        self.out.push_str("departments = [");
        for (i, d) in self.departments.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            write_str(&mut self.out, d);
        }
        self.out.push_str("]\n");
    }

    /// Writes a year in the plan's style (one in ten in another style, as
    /// transcriptions mix them).
    fn year(&mut self, rng: &mut Rng, y: i32) {
        write_year(self.style, rng, &mut self.out, y);
    }

    fn year_into(&self, rng: &mut Rng, out: &mut String, y: i32) {
        write_year(self.style, rng, out, y);
    }
}

fn write_year(plan_style: YearStyle, rng: &mut Rng, out: &mut String, y: i32) {
    {
        let style = if rng.chance(100) {
            match rng.below(3) {
                0 => YearStyle::Int,
                1 => YearStyle::Era,
                _ => YearStyle::Nendo,
            }
        } else {
            plan_style
        };
        match style {
            YearStyle::Int => {
                let _ = write!(out, "{y}");
            }
            YearStyle::Nendo => {
                let _ = write!(out, "\"{y}年度\"");
            }
            YearStyle::Era if y >= 2019 => {
                if y == 2019 && rng.chance(500) {
                    out.push_str("\"R元\"");
                } else {
                    let _ = write!(out, "\"R{}\"", y - 2018);
                }
            }
            YearStyle::Era if y >= 1989 => {
                let _ = write!(out, "\"H{}\"", y - 1988);
            }
            YearStyle::Era => {
                let _ = write!(out, "{y}");
            }
        }
    }
}

/// Writes `dir/name` through a hidden temporary file and a rename, so a
/// reader never sees a half-written plan file.
fn write_atomically(dir: &Path, name: &str, text: &str) -> io::Result<()> {
    let tmp: PathBuf = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, dir.join(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "hyoka-generate-{tag}-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or(0)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn generated_corpus_loads_without_diagnostics() {
        let dir = temp_dir("load");
        let spec = CorpusSpec::new(3);
        let stats = generate(&dir, &spec).expect("generate");
        assert_eq!(stats.municipalities, 3);
        assert_eq!(stats.files, spec.files());
        assert_eq!(stats.indicators, 3 * 1000);
        let loaded = crate::load(std::slice::from_ref(&dir));
        let messages: Vec<String> = loaded
            .diagnostics
            .iter()
            .take(5)
            .map(|d| format!("{}: {} {:?}", d.code, d.message, d.help))
            .collect();
        assert!(
            loaded.diagnostics.is_empty(),
            "{} diagnostics, first: {messages:#?}",
            loaded.diagnostics.len()
        );
        let c = &loaded.corpus;
        assert_eq!(c.files.len() as u64, stats.files);
        assert_eq!(c.plans.len() as u64, stats.plans);
        assert_eq!(c.indicators.len() as u64, stats.indicators);
        assert_eq!(c.projects.len() as u64, stats.projects);
        let links: usize = c.indicators.iter().map(|i| i.links.len()).sum();
        assert_eq!(links as u64, stats.links);
        assert!(stats.links > 0, "some same_as links");
        // The seeds' mix is there.
        assert!(c.indicators.iter().any(|i| i.cumulative));
        assert!(c.indicators.iter().any(|i| i.monitoring));
        assert!(c.indicators.iter().any(|i| i.part.is_some()));
        assert!(c.indicators.iter().any(|i| !i.revisions.is_empty()));
        assert!(c.projects.iter().any(|p| p.relisted_from.is_some()));
        assert!(c
            .indicators
            .iter()
            .any(|i| i.target.as_ref().is_some_and(|t| t.set_in.is_some())));
        assert!(c
            .indicators
            .iter()
            .any(|i| i.target.as_ref().is_some_and(|t| t.text.is_some())));
        assert!(c.indicators.iter().any(|i| i
            .actuals
            .iter()
            .any(|a| matches!(a.value.value, crate::model::Amount::Missing(_)))));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn generation_is_deterministic() {
        let spec = CorpusSpec {
            indicators_per_municipality: 300,
            sectoral_plans: 3,
            ..CorpusSpec::new(2)
        };
        let (a, sa) = generate_municipality(&spec, 1);
        let (b, sb) = generate_municipality(&spec, 1);
        assert_eq!(a, b);
        assert_eq!(sa, sb);
        assert_eq!(sa.indicators, 300);
        let other = CorpusSpec { seed: 7, ..spec };
        let (c, _) = generate_municipality(&other, 1);
        assert_ne!(a, c);
    }
}

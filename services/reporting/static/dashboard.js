/* renshe reporting dashboard (统计看板). Plain JavaScript, no build step, no network beyond this server.
 *
 * The page is public; every JSON call carries the bearer token from the URL fragment (#token=…, kept in
 * sessionStorage and removed from the address bar) or from the token form. The token's region scope is
 * where the tree starts; the API refuses anything outside it. Contract: GET /metrics/catalogue,
 * /regions/{code}/stats|children?period=…, /regions/{code}/series?metric=&from=&to=, /reports/quarterly.
 */
"use strict";

(() => {
  const TOKEN_KEY = "renshe.dashboard.token";
  const LANG_KEY = "renshe.dashboard.lang";

  const TEXT = {
    zh: {
      title: "人社统计看板",
      subtitle: "基层劳动就业和社会保障服务网 · 四级联网",
      skip: "跳到主要内容",
      periodControls: "统计期间",
      breadcrumb: "当前位置",
      granularity: "期间类型",
      quarter: "季度",
      month: "月度",
      year: "年度",
      period: "统计期间",
      signOut: "退出",
      regions: "行政区划",
      keyFigures: "主要指标",
      comparedWith: (p) => `与上期（${p}）相比`,
      unchanged: "与上期持平",
      noPrevious: "无上期数据",
      pointsUnit: "个百分点",
      childrenChart: "下级区划对比",
      metric: "图表指标",
      charts: "图表",
      series: "时间趋势",
      noSeries: "暂无时间序列",
      children: "下级区划",
      code: "区划代码",
      name: "名称",
      total: "本级合计",
      noChildren: "村（社区）是最小统计单元，没有下级区划。",
      export: "导出季报",
      exportTitle: (p, f) => `下载 ${p} 季度统计报表（${f}）`,
      exportUnavailable: "季报导出暂不可用。",
      exportDone: (name) => `已下载 ${name}`,
      staffHeading: "服务人员月度考核",
      staffExport: "导出考核表（XLSX）",
      staffEmpty: "本月该区划没有在岗服务人员。",
      staffColumns: ["县排名", "乡镇排名", "工号", "岗位", "工作量", "服务成本", "服务效果", "满意度", "综合得分", "末位"],
      staffRoles: { broker: "农村劳务经纪人", guidance_officer: "职业指导员", coordinator: "劳动保障协理员", clerk: "工作人员" },
      loading: "加载中…",
      failed: "加载失败：",
      noChart: "图表库未能加载。",
      tokenTitle: "请输入访问令牌",
      tokenHelp: "看板本身公开，数据按令牌的区划范围显示。可在地址后附加 #token=… 直接打开。",
      tokenLabel: "访问令牌（Bearer）",
      tokenSubmit: "进入看板",
      tokenInvalid: "令牌无效或已过期，请重新输入。",
      scope: (name, role) => `范围：${name}${role ? " · " + role : ""}`,
      levels: { province: "省", city: "市（州）", county: "县（区）", township: "乡镇（街道）", village: "村（社区）" },
      kinds: { stock: "存量", flow: "流量", ratio: "比率" },
      periodLabel: {
        year: (y) => `${y}年`,
        quarter: (y, q) => `${y}年第${q}季度`,
        month: (y, m) => `${y}年${m}月`,
      },
      other: "English",
      otherLang: "en",
      htmlLang: "zh-CN",
      numberLocale: "zh-CN",
    },
    en: {
      title: "Labour & social security dashboard",
      subtitle: "Grassroots service network · four-level reporting",
      skip: "Skip to main content",
      periodControls: "Reporting period",
      breadcrumb: "You are here",
      granularity: "Period type",
      quarter: "Quarter",
      month: "Month",
      year: "Year",
      period: "Period",
      signOut: "Sign out",
      regions: "Regions",
      keyFigures: "Key figures",
      comparedWith: (p) => `compared with the previous period (${p})`,
      unchanged: "unchanged",
      noPrevious: "no previous figure",
      pointsUnit: "pp",
      childrenChart: "Regions below",
      metric: "Metric",
      charts: "Charts",
      series: "Over time",
      noSeries: "No series yet",
      children: "Regions below",
      code: "Code",
      name: "Name",
      total: "This region",
      noChildren: "A village or community is the smallest unit; there is nothing below it.",
      export: "Quarterly report",
      exportTitle: (p, f) => `Download the quarterly report for ${p} (${f})`,
      exportUnavailable: "The quarterly report export is not available yet.",
      exportDone: (name) => `Downloaded ${name}`,
      staffHeading: "Monthly staff evaluation",
      staffExport: "Evaluation (XLSX)",
      staffEmpty: "No staff in post in this region this month.",
      staffColumns: ["County rank", "Township rank", "Staff", "Role", "Workload", "Cost", "Effect", "Satisfaction", "Score", "Last"],
      staffRoles: { broker: "Village broker", guidance_officer: "Guidance officer", coordinator: "Coordinator", clerk: "Clerk" },
      loading: "Loading…",
      failed: "Could not load: ",
      noChart: "The charting library did not load.",
      tokenTitle: "Access token",
      tokenHelp: "The page is public; the figures follow your token's region scope. You can also open it with #token=… in the address.",
      tokenLabel: "Bearer token",
      tokenSubmit: "Open the dashboard",
      tokenInvalid: "The token is invalid or has expired; please paste another.",
      scope: (name, role) => `Scope: ${name}${role ? " · " + role : ""}`,
      levels: { province: "Province", city: "City", county: "County", township: "Township", village: "Village" },
      kinds: { stock: "stock", flow: "flow", ratio: "ratio" },
      periodLabel: {
        year: (y) => `${y}`,
        quarter: (y, q) => `Q${q} ${y}`,
        month: (y, m) => new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString("en-GB", { month: "short", year: "numeric", timeZone: "UTC" }),
      },
      other: "中文",
      otherLang: "zh",
      htmlLang: "en",
      numberLocale: "en-GB",
    },
  };

  // ---- periods: "2026" (year), "2026Q3" (quarter), "2026-09" (month) -------------------------------

  const Period = {
    kind(p) {
      if (/^\d{4}$/.test(p)) return "year";
      if (/^\d{4}Q[1-4]$/.test(p)) return "quarter";
      return "month";
    },
    parts(p) {
      const year = Number(p.slice(0, 4));
      const kind = Period.kind(p);
      const n = kind === "quarter" ? Number(p[5]) : kind === "month" ? Number(p.slice(5)) : 0;
      return { kind, year, n };
    },
    make(kind, year, n) {
      if (kind === "year") return String(year);
      if (kind === "quarter") return `${year}Q${n}`;
      return `${year}-${String(n).padStart(2, "0")}`;
    },
    /** The period ``steps`` before ``p`` (steps may be negative). */
    shift(p, steps) {
      const { kind, year, n } = Period.parts(p);
      if (kind === "year") return String(year - steps);
      const per = kind === "quarter" ? 4 : 12;
      const index = year * per + (n - 1) - steps;
      return Period.make(kind, Math.floor(index / per), (index % per) + 1);
    },
    current(kind, today = new Date()) {
      const year = today.getFullYear();
      const month = today.getMonth() + 1;
      return Period.make(kind, year, kind === "quarter" ? Math.ceil(month / 3) : month);
    },
    /** The quarter a report for ``p`` covers: its own, the month's, or the year's last one not in the future. */
    quarterOf(p) {
      const { kind, year, n } = Period.parts(p);
      if (kind === "quarter") return p;
      if (kind === "month") return Period.make("quarter", year, Math.ceil(n / 3));
      const now = Period.current("quarter");
      return year >= Number(now.slice(0, 4)) ? now : `${year}Q4`;
    },
    label(p) {
      const { kind, year, n } = Period.parts(p);
      return t().periodLabel[kind](year, n);
    },
    /** How many periods a chart of this kind shows, ending with the selected one. */
    span: { year: 5, quarter: 8, month: 12 },
  };

  // ---- state --------------------------------------------------------------------------------------

  const state = {
    token: null,
    claims: {},
    lang: localStorage.getItem(LANG_KEY) === "en" ? "en" : "zh",
    kind: "quarter",
    period: Period.current("quarter"),
    catalogue: [],
    barMetric: "labour_force",
    rootCode: null,
    selected: null,
    /** code -> {region, parent, childCodes|null, li} */
    nodes: new Map(),
    /** "code|period" -> Promise of the /children answer */
    childrenCache: new Map(),
    /** The figures on screen, kept so a language switch re-renders without fetching. */
    view: null,
    seq: 0,
  };

  const $ = (id) => document.getElementById(id);
  const t = () => TEXT[state.lang];

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) if (child !== null && child !== undefined) node.append(child);
    return node;
  }

  function fmt(value, digits = 0) {
    if (value === null || value === undefined || Number.isNaN(value)) return "—";
    const maximumFractionDigits = Number.isInteger(value) ? 0 : Math.max(digits, 1);
    return new Intl.NumberFormat(t().numberLocale, { maximumFractionDigits }).format(value);
  }

  function metricLabel(m) {
    return state.lang === "zh" ? m.label_zh : m.label_en;
  }

  /** The catalogue names units in Chinese; English readers get the common ones in English. */
  const UNITS_EN = { 人: "persons", 家: "units", 户: "households", 个: "", 次: "times", 件: "cases", 元: "yuan", 万元: "10k yuan" };

  function unitLabel(unit) {
    if (state.lang === "zh" || !(unit in UNITS_EN)) return unit;
    return UNITS_EN[unit];
  }

  function withUnit(label, unit) {
    const shown = unitLabel(unit);
    if (!shown) return label;
    return state.lang === "zh" ? `${label}（${shown}）` : `${label} (${shown})`;
  }

  function levelLabel(level) {
    return t().levels[level] || level;
  }

  /** 12-digit code from a 2-, 4-, 6-, 9- or 12-digit one. */
  function fullCode(code) {
    return String(code).padEnd(12, "0");
  }

  // ---- the API -----------------------------------------------------------------------------------

  class ApiError extends Error {
    constructor(status, detail) {
      super(detail);
      this.status = status;
    }
  }

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
    if (response.status === 401) {
      signOut(t().tokenInvalid);
      throw new ApiError(401, t().tokenInvalid);
    }
    if (!response.ok) throw new ApiError(response.status, await problemDetail(response));
    return response.json();
  }

  async function problemDetail(response) {
    try {
      const body = await response.json();
      return body.detail || `${response.status} ${response.statusText}`;
    } catch {
      return `${response.status} ${response.statusText}`;
    }
  }

  const periodQuery = (period) => `period=${encodeURIComponent(period)}`;

  function stats(code, period) {
    return api(`/regions/${code}/stats?${periodQuery(period)}`);
  }

  function children(code, period) {
    const key = `${code}|${period}`;
    if (!state.childrenCache.has(key)) {
      const promise = api(`/regions/${code}/children?${periodQuery(period)}`);
      promise.catch(() => state.childrenCache.delete(key));
      state.childrenCache.set(key, promise);
    }
    return state.childrenCache.get(key);
  }

  function series(code, metric, to) {
    const from = Period.shift(to, Period.span[Period.kind(to)] - 1);
    const query = new URLSearchParams({ metric, from, to });
    return api(`/regions/${code}/series?${query}`);
  }

  // ---- token ------------------------------------------------------------------------------------

  /** The token's claims, decoded only to know where the tree starts (the server verifies it on every call). */
  function decodeClaims(token) {
    try {
      const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
      const json = decodeURIComponent(
        Array.from(atob(payload), (c) => "%" + c.charCodeAt(0).toString(16).padStart(2, "0")).join(""),
      );
      return JSON.parse(json);
    } catch {
      return {};
    }
  }

  function tokenFromFragment() {
    const params = new URLSearchParams(location.hash.slice(1));
    const token = params.get("token");
    if (token) {
      sessionStorage.setItem(TOKEN_KEY, token);
      // Keep the token out of the address bar, the history and anything copied from it.
      params.delete("token");
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    }
    return sessionStorage.getItem(TOKEN_KEY);
  }

  function showLogin(message) {
    const error = $("login-error");
    error.hidden = !message;
    error.textContent = message || "";
    const dialog = $("login");
    if (!dialog.open) dialog.showModal();
    $("token-input").focus();
  }

  function signOut(message) {
    sessionStorage.removeItem(TOKEN_KEY);
    state.token = null;
    showLogin(message);
  }

  // ---- status line --------------------------------------------------------------------------------

  function setStatus(message, isError = false) {
    const status = $("status");
    status.hidden = !message;
    status.textContent = message || "";
    status.classList.toggle("error", isError);
  }

  // ---- static text and language -------------------------------------------------------------------

  function applyLanguage() {
    const text = t();
    document.documentElement.lang = text.htmlLang;
    document.title = text.title;
    for (const node of document.querySelectorAll("[data-i18n]")) {
      const value = text[node.dataset.i18n];
      if (typeof value === "string") node.textContent = value;
    }
    for (const node of document.querySelectorAll("[data-i18n-aria]")) {
      node.setAttribute("aria-label", text[node.dataset.i18nAria]);
    }
    const toggle = $("lang");
    toggle.textContent = text.other;
    toggle.lang = text.otherLang === "en" ? "en" : "zh-CN";
    fillPeriods();
    fillMetricSelect();
    renderScope();
    for (const node of state.nodes.values()) {
      const row = node.li && node.li.querySelector(":scope > .node");
      if (row) row.title = `${node.region.name} · ${levelLabel(node.region.level)} · ${node.region.code}`;
    }
    if (state.view) renderView(state.view);
  }

  function fillPeriods() {
    const select = $("period");
    const latest = Period.current(state.kind);
    select.replaceChildren();
    for (let i = 0; i < Period.span[state.kind]; i++) {
      const p = Period.shift(latest, i);
      select.append(el("option", { value: p, text: Period.label(p), selected: p === state.period }));
    }
    $("granularity").value = state.kind;
  }

  function fillMetricSelect() {
    const select = $("bar-metric");
    select.replaceChildren(
      ...state.catalogue.map((m) => el("option", { value: m.name, text: metricLabel(m), selected: m.name === state.barMetric })),
    );
  }

  function renderScope() {
    const root = state.nodes.get(state.rootCode);
    const name = root ? root.region.name : state.claims.region || "";
    $("scope").textContent = name ? t().scope(name, state.claims.role) : "";
  }

  // ---- the region tree (WAI-ARIA tree: arrows move, Right/Left open/close, Enter selects) -----------

  function addNode(region, parent, depth) {
    const node = { region, parent, childCodes: null, li: null, depth };
    state.nodes.set(region.code, node);
    const leaf = region.level === "village";
    const li = el(
      "li",
      {
        role: "treeitem",
        "aria-level": depth,
        "aria-selected": "false",
        "aria-expanded": leaf ? null : "false",
        tabindex: "-1",
        "data-code": region.code,
        "data-level": region.level,
      },
      el(
        "div",
        { class: "node", title: `${region.name} · ${levelLabel(region.level)} · ${region.code}` },
        el("span", { class: "twisty", "aria-hidden": "true", text: leaf ? "" : "▸" }),
        el("span", { class: "name", text: region.name }),
      ),
    );
    node.li = li;
    return node;
  }

  async function expand(code) {
    const node = state.nodes.get(code);
    if (!node || node.region.level === "village") return;
    if (node.childCodes === null) {
      const answer = await children(code, state.period);
      if (node.childCodes === null) {
        const group = el("ul", { role: "group", class: "subtree" });
        node.childCodes = answer.children.map((child) => {
          group.append(addNode(child, code, node.depth + 1).li);
          return child.code;
        });
        node.li.append(group);
      }
    }
    node.li.setAttribute("aria-expanded", "true");
    const group = node.li.querySelector(":scope > ul");
    if (group) group.hidden = false;
  }

  function collapse(code) {
    const node = state.nodes.get(code);
    if (!node || node.region.level === "village") return;
    node.li.setAttribute("aria-expanded", "false");
    const group = node.li.querySelector(":scope > ul");
    if (group) group.hidden = true;
  }

  function focusItem(li) {
    for (const item of $("tree").querySelectorAll('[tabindex="0"]')) item.setAttribute("tabindex", "-1");
    li.setAttribute("tabindex", "0");
    li.focus();
  }

  function visibleItems() {
    return Array.from($("tree").querySelectorAll('[role="treeitem"]')).filter((li) => li.offsetParent !== null);
  }

  function onTreeClick(event) {
    const row = event.target.closest(".node");
    if (!row) return;
    const li = row.parentElement;
    const code = li.dataset.code;
    if (event.target.classList.contains("twisty") && li.getAttribute("aria-expanded") === "true") {
      collapse(code);
      return;
    }
    focusItem(li);
    select(code);
  }

  function onTreeKey(event) {
    const li = event.target.closest('[role="treeitem"]');
    if (!li) return;
    const items = visibleItems();
    const index = items.indexOf(li);
    const code = li.dataset.code;
    const expanded = li.getAttribute("aria-expanded");
    switch (event.key) {
      case "ArrowDown":
        if (index < items.length - 1) focusItem(items[index + 1]);
        break;
      case "ArrowUp":
        if (index > 0) focusItem(items[index - 1]);
        break;
      case "Home":
        focusItem(items[0]);
        break;
      case "End":
        focusItem(items[items.length - 1]);
        break;
      case "ArrowRight":
        if (expanded === "false") expand(code).catch(showError);
        else if (expanded === "true" && index < items.length - 1) focusItem(items[index + 1]);
        break;
      case "ArrowLeft":
        if (expanded === "true") collapse(code);
        else {
          const parent = state.nodes.get(code).parent;
          if (parent) focusItem(state.nodes.get(parent).li);
        }
        break;
      case "Enter":
      case " ":
        select(code);
        break;
      default:
        return;
    }
    event.preventDefault();
  }

  function pathTo(code) {
    const path = [];
    for (let node = state.nodes.get(code); node; node = state.nodes.get(node.parent)) path.unshift(node);
    return path;
  }

  // ---- selecting a region ---------------------------------------------------------------------------

  async function select(code) {
    const node = state.nodes.get(code);
    if (!node) return;
    state.selected = code;
    for (const item of $("tree").querySelectorAll('[aria-selected="true"]')) item.setAttribute("aria-selected", "false");
    node.li.setAttribute("aria-selected", "true");
    if (!node.li.matches(":focus")) {
      for (const item of $("tree").querySelectorAll('[tabindex="0"]')) item.setAttribute("tabindex", "-1");
      node.li.setAttribute("tabindex", "0");
    }
    node.li.scrollIntoView({ block: "nearest" });
    await load();
  }

  /** Fetch everything the selected region's view shows, for the selected period, then render it. */
  async function load() {
    const code = state.selected;
    const node = state.nodes.get(code);
    const seq = ++state.seq;
    const period = state.period;
    const previous = Period.shift(period, 1);
    setStatus(t().loading);
    document.body.setAttribute("aria-busy", "true");
    const leaf = node.region.level === "village";
    const [current, before, below, points, staff] = await Promise.allSettled([
      stats(code, period),
      stats(code, previous),
      leaf ? Promise.resolve(null) : children(code, period),
      series(code, state.barMetric, period),
      staffPerformance(code, period),
    ]);
    if (seq !== state.seq) return; // a newer selection is on its way
    document.body.removeAttribute("aria-busy");
    if (current.status === "rejected") {
      showError(current.reason);
      return;
    }
    setStatus("");
    state.view = {
      code,
      period,
      previous,
      current: current.value,
      before: before.status === "fulfilled" ? before.value : null,
      children: below.status === "fulfilled" ? below.value : null,
      childrenError: below.status === "rejected" ? below.reason : null,
      series: points.status === "fulfilled" ? points.value : null,
      seriesError: points.status === "rejected" ? points.reason : null,
      staff: staff.status === "fulfilled" ? staff.value : null,
    };
    renderView(state.view);
    if (!leaf) expand(code).catch(showError);
  }

  function showError(error) {
    document.body.removeAttribute("aria-busy");
    if (error && error.status === 401) return; // the token form says it
    setStatus(t().failed + (error && error.message ? error.message : String(error)), true);
  }

  // ---- rendering ---------------------------------------------------------------------------------------

  function renderView(view) {
    renderHeading(view);
    renderCards(view);
    renderBarChart(view);
    renderSeries(view);
    renderTable(view);
    renderExport(view);
    renderStaff(view);
  }

  /** County officers and admins see each staff member's evaluation for the month (issue 19); for anyone
   * else the API answers 403 and the panel stays hidden. */
  function canSeeStaff() {
    return state.claims.role === "county" || state.claims.role === "admin";
  }

  function staffMonth(period) {
    return state.kind === "month" ? period : Period.current("month");
  }

  function staffPerformance(code, period) {
    if (!canSeeStaff() || code.slice(4) === "00000000") return Promise.resolve(null);
    const query = new URLSearchParams({ region: code, month: staffMonth(period) });
    return api(`/staff-performance?${query}`);
  }

  function renderStaff(view) {
    const panel = $("staff-panel");
    const found = view.staff;
    panel.hidden = !found;
    if (!found) return;
    const text = t();
    $("staff-month").textContent = found.month;
    const table = $("staff-table");
    const empty = $("staff-empty");
    table.hidden = !found.staff.length;
    empty.hidden = Boolean(found.staff.length);
    empty.textContent = text.staffEmpty;
    table.tHead.replaceChildren(el("tr", {}, ...text.staffColumns.map((c) => el("th", { scope: "col", text: c }))));
    const part = (v) => (v === null ? "—" : fmt(v, 1));
    table.tBodies[0].replaceChildren(
      ...found.staff.map((e) =>
        el(
          "tr",
          { "data-subject": e.subject, class: e.last_in_county ? "last" : "" },
          el("td", { text: String(e.county_rank) }),
          el("td", { text: String(e.township_rank) }),
          el("th", { scope: "row", text: e.subject }),
          el("td", { text: text.staffRoles[e.role] || e.role }),
          el("td", { text: part(e.parts.workload) }),
          el("td", { text: part(e.parts.cost) }),
          el("td", { text: part(e.parts.effect) }),
          el("td", { text: part(e.parts.satisfaction) }),
          el("td", { text: fmt(e.score, 2) }),
          el("td", { text: e.dismissal_due ? "!!" : e.last_in_county ? "!" : "" }),
        ),
      ),
    );
  }

  function renderHeading(view) {
    const region = view.current.region;
    $("region-name").textContent = region.name;
    $("region-meta").textContent = `${levelLabel(region.level)} · ${region.code} · ${Period.label(view.period)}`;
    const crumbs = pathTo(view.code).map((node, i, all) => {
      if (i === all.length - 1) return el("li", {}, el("span", { "aria-current": "page", text: node.region.name }));
      return el(
        "li",
        {},
        el("a", {
          href: "#",
          text: node.region.name,
          onclick: (event) => {
            event.preventDefault();
            select(node.region.code);
          },
        }),
      );
    });
    $("breadcrumb").replaceChildren(...crumbs);
  }

  function renderCards(view) {
    const text = t();
    $("compare-note").textContent = view.before ? text.comparedWith(Period.label(view.previous)) : "";
    const cards = state.catalogue.map((m) => {
      const value = view.current.metrics[m.name];
      const prior = view.before ? view.before.metrics[m.name] : undefined;
      const unit = unitLabel(m.unit);
      let change = text.noPrevious;
      let direction = "";
      if (prior !== undefined && prior !== null && value !== undefined && value !== null) {
        const delta = value - prior;
        if (Math.abs(delta) < 1e-9) change = text.unchanged;
        else {
          direction = delta > 0 ? "up" : "down";
          const arrow = delta > 0 ? "▲" : "▼";
          const sign = delta > 0 ? "+" : "−";
          if (m.kind === "ratio") change = `${arrow} ${sign}${fmt(Math.abs(delta), 1)} ${text.pointsUnit}`;
          else {
            const relative = prior !== 0 ? ` (${sign}${fmt(Math.abs((delta / prior) * 100), 1)}%)` : "";
            change = `${arrow} ${sign}${fmt(Math.abs(delta))}${relative}`;
          }
        }
      }
      return el(
        "div",
        { class: "card", role: "group", "aria-label": metricLabel(m), "data-metric": m.name },
        el(
          "div",
          { class: "card-label" },
          el("span", { text: metricLabel(m) }),
          el("span", { class: "kind", text: text.kinds[m.kind] || m.kind }),
        ),
        el("div", { class: "card-value" }, el("span", { class: "value", text: fmt(value, 1) }), el("span", { class: "unit", text: unit })),
        el("div", { class: `card-change ${direction}`, text: change }),
      );
    });
    $("figures").replaceChildren(...cards);
  }

  const chartFont = () => ({ family: getComputedStyle(document.body).fontFamily, size: 12, color: "#1b2432" });
  const chartConfig = () => ({
    displaylogo: false,
    responsive: true,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "zoomIn2d", "zoomOut2d"],
    locale: state.lang === "zh" ? "zh-CN" : "en",
  });

  function plotlyReady() {
    if (window.Plotly) return true;
    setStatus(t().noChart, true);
    return false;
  }

  function metricOf(name) {
    return state.catalogue.find((m) => m.name === name) || { name, label_zh: name, label_en: name, unit: "", kind: "stock" };
  }

  /** A value axis from zero; counts below ten get whole-number ticks (no "2.5 persons"). */
  function valueAxis(metric, values) {
    const axis = { rangemode: "tozero", gridcolor: "#e6e9ef", fixedrange: true, separatethousands: true };
    if (metric.kind !== "ratio" && Math.max(0, ...values) < 10) Object.assign(axis, { tick0: 0, dtick: 1 });
    return axis;
  }

  function renderBarChart(view) {
    const chart = $("bar-chart");
    const empty = $("bar-empty");
    const list = view.children ? view.children.children : [];
    // A village has nothing below it: the time series takes the whole row.
    const leaf = view.current.region.level === "village";
    $("bar-panel").hidden = leaf;
    $("charts").classList.toggle("single", leaf);
    if (!list.length) {
      if (window.Plotly) Plotly.purge(chart);
      chart.hidden = true;
      empty.hidden = false;
      empty.textContent = view.childrenError ? t().failed + view.childrenError.message : t().noChildren;
      return;
    }
    chart.hidden = false;
    empty.hidden = true;
    if (!plotlyReady()) return;
    const metric = metricOf(state.barMetric);
    $("bar-unit").textContent = unitLabel(metric.unit) ? `（${unitLabel(metric.unit)}）` : "";
    const rows = list.map((c) => ({ code: c.code, name: c.name, value: c.metrics[metric.name] ?? 0 }));
    rows.sort((a, b) => b.value - a.value || a.code.localeCompare(b.code));
    chart.setAttribute("aria-label", `${t().childrenChart}: ${metricLabel(metric)}`);
    Plotly.react(
      chart,
      [
        {
          type: "bar",
          x: rows.map((r) => r.name),
          y: rows.map((r) => r.value),
          customdata: rows.map((r) => r.code),
          marker: { color: "#2f73b8" },
          hovertemplate: `%{x}<br>%{y:,} ${unitLabel(metric.unit)}<extra></extra>`,
        },
      ],
      {
        margin: { l: 48, r: 8, t: 8, b: 8 },
        font: chartFont(),
        xaxis: { tickangle: rows.length > 8 ? -45 : 0, automargin: true, fixedrange: true },
        yaxis: valueAxis(metric, rows.map((r) => r.value)),
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
        bargap: 0.25,
      },
      chartConfig(),
    );
    if (!chart.dataset.bound) {
      chart.dataset.bound = "1";
      chart.on("plotly_click", (event) => {
        const point = event.points && event.points[0];
        if (point && point.customdata) select(point.customdata);
      });
    }
  }

  function renderSeries(view) {
    const chart = $("series-chart");
    const empty = $("series-empty");
    const metric = metricOf(state.barMetric);
    $("series-metric").textContent = withUnit(metricLabel(metric), metric.unit);
    const points = view.series && Array.isArray(view.series.points) ? view.series.points : null;
    if (!points || !points.length) {
      if (window.Plotly) Plotly.purge(chart);
      chart.hidden = true;
      empty.hidden = false;
      const error = view.seriesError;
      // 404/422: the server has no series endpoint yet, or cannot answer this range: say so, calmly.
      empty.textContent = !error || error.status === 404 || error.status === 422 ? t().noSeries : t().failed + error.message;
      return;
    }
    chart.hidden = false;
    empty.hidden = true;
    if (!plotlyReady()) return;
    chart.setAttribute("aria-label", `${t().series}: ${metricLabel(metric)}`);
    Plotly.react(
      chart,
      [
        {
          type: "scatter",
          mode: "lines+markers",
          // The axis shows the compact form ("2026Q3"); the hover names the period in full.
          x: points.map((p) => p.period),
          y: points.map((p) => p.value),
          customdata: points.map((p) => Period.label(p.period)),
          cliponaxis: false,
          line: { color: "#1f5c99", width: 2 },
          marker: { size: 6 },
          fill: "tozeroy",
          fillcolor: "rgba(47,115,184,0.08)",
          hovertemplate: `%{customdata}<br>%{y:,} ${unitLabel(metric.unit)}<extra></extra>`,
        },
      ],
      {
        margin: { l: 48, r: 16, t: 12, b: 8 },
        font: chartFont(),
        xaxis: { type: "category", automargin: true, fixedrange: true },
        yaxis: valueAxis(metric, points.map((p) => p.value)),
        paper_bgcolor: "rgba(0,0,0,0)",
        plot_bgcolor: "rgba(0,0,0,0)",
      },
      chartConfig(),
    );
  }

  function renderTable(view) {
    const text = t();
    const table = $("children-table");
    const empty = $("children-empty");
    const list = view.children ? view.children.children : [];
    $("children-heading").textContent = list.length
      ? `${text.children} · ${levelLabel(list[0].level)} (${list.length})`
      : text.children;
    if (!list.length) {
      table.hidden = true;
      empty.hidden = false;
      empty.textContent = view.childrenError ? text.failed + view.childrenError.message : text.noChildren;
      return;
    }
    table.hidden = false;
    empty.hidden = true;
    const head = el(
      "tr",
      {},
      el("th", { scope: "col", text: text.name }),
      el("th", { scope: "col", text: text.code }),
      ...state.catalogue.map((m) => el("th", { scope: "col", "data-metric": m.name, text: withUnit(metricLabel(m), m.unit) })),
    );
    table.tHead.replaceChildren(head);
    table.tBodies[0].replaceChildren(
      ...list.map((child) =>
        el(
          "tr",
          { "data-code": child.code },
          el("th", { scope: "row" }, el("button", { type: "button", class: "linklike", text: child.name, onclick: () => select(child.code) })),
          el("td", { class: "code", text: child.code }),
          ...state.catalogue.map((m) => el("td", { "data-metric": m.name, text: fmt(child.metrics[m.name], 1) })),
        ),
      ),
    );
    table.tFoot.replaceChildren(
      el(
        "tr",
        {},
        el("th", { scope: "row", text: `${text.total}（${view.current.region.name}）` }),
        el("td", { class: "code", text: view.current.region.code }),
        ...state.catalogue.map((m) => el("td", { "data-metric": m.name, text: fmt(view.current.metrics[m.name], 1) })),
      ),
    );
  }

  function renderExport(view) {
    const quarter = Period.quarterOf(view.period);
    for (const button of document.querySelectorAll(".export button")) {
      const title = t().exportTitle(Period.label(quarter), button.dataset.format.toUpperCase());
      button.title = title;
      button.setAttribute("aria-label", title);
    }
  }

  /** The export endpoint needs the bearer token, so a plain link cannot carry it: fetch, then save the blob. */
  async function exportReport(event) {
    const format = event.currentTarget.dataset.format;
    const quarter = Period.quarterOf(state.period);
    const query = new URLSearchParams({ region: state.selected, period: quarter, format });
    await download(event.currentTarget, `/reports/quarterly?${query}`, `${state.selected}-${quarter}.${format}`);
  }

  async function exportStaff(event) {
    const month = staffMonth(state.period);
    const query = new URLSearchParams({ region: state.selected, month });
    await download(event.currentTarget, `/staff-performance/report?${query}`, `${state.selected}-${month}.xlsx`);
  }

  async function download(button, path, fallbackName) {
    button.disabled = true;
    try {
      const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}` } });
      if (response.status === 401) return signOut(t().tokenInvalid);
      if (response.status === 404 || response.status === 405) return setStatus(t().exportUnavailable, true);
      if (!response.ok) return setStatus(t().failed + (await problemDetail(response)), true);
      const blob = await response.blob();
      const disposition = response.headers.get("content-disposition") || "";
      const match = /filename\*=UTF-8''([^;]+)|filename="?([^";]+)"?/i.exec(disposition);
      const name = match ? decodeURIComponent(match[1] || match[2]) : fallbackName;
      const url = URL.createObjectURL(blob);
      const link = el("a", { href: url, download: name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
      setStatus(t().exportDone(name));
    } catch (error) {
      showError(error);
    } finally {
      button.disabled = false;
    }
  }

  // ---- start-up ------------------------------------------------------------------------------------------

  async function start() {
    state.claims = decodeClaims(state.token);
    const params = new URLSearchParams(location.hash.slice(1));
    const scope = params.get("region") || state.claims.region;
    if (!scope) return signOut(t().tokenInvalid); // every renshe token names its region scope
    setStatus(t().loading);
    try {
      const [catalogue, root] = await Promise.all([api("/metrics/catalogue"), api(`/regions/${fullCode(scope)}/stats`)]);
      state.catalogue = catalogue;
      if (!catalogue.some((m) => m.name === state.barMetric) && catalogue.length) state.barMetric = catalogue[0].name;
      state.nodes.clear();
      state.childrenCache.clear();
      state.rootCode = root.region.code;
      const node = addNode(root.region, null, 1);
      node.li.setAttribute("tabindex", "0");
      $("tree").replaceChildren(node.li);
      applyLanguage();
      await select(root.region.code);
    } catch (error) {
      showError(error);
    }
  }

  function bind() {
    $("tree").addEventListener("click", onTreeClick);
    $("tree").addEventListener("keydown", onTreeKey);
    $("granularity").addEventListener("change", (event) => {
      state.kind = event.target.value;
      state.period = Period.current(state.kind);
      fillPeriods();
      if (state.selected) load();
    });
    $("period").addEventListener("change", (event) => {
      state.period = event.target.value;
      if (state.selected) load();
    });
    $("bar-metric").addEventListener("change", (event) => {
      state.barMetric = event.target.value;
      if (state.selected) load();
    });
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "zh" ? "en" : "zh";
      localStorage.setItem(LANG_KEY, state.lang);
      applyLanguage();
    });
    $("signout").addEventListener("click", () => {
      state.view = null;
      signOut("");
    });
    for (const button of document.querySelectorAll(".export button")) button.addEventListener("click", exportReport);
    $("staff-xlsx").addEventListener("click", exportStaff);
    $("login-form").addEventListener("submit", (event) => {
      // Closed here rather than by method="dialog", so start() can reopen it if the token is refused.
      event.preventDefault();
      const token = $("token-input").value.trim();
      if (!token) return;
      sessionStorage.setItem(TOKEN_KEY, token);
      state.token = token;
      $("token-input").value = "";
      $("login").close();
      start();
    });
    $("login").addEventListener("cancel", (event) => {
      if (!state.token) event.preventDefault(); // nothing to show without a token
    });
  }

  bind();
  applyLanguage();
  state.token = tokenFromFragment();
  if (state.token) start();
  else showLogin("");
})();

// Sign-up in a few taps: age, a wished-for occupation (Danish autocomplete or a
// picture), ticked skills, a picture quiz for the work profile, distance.
// No free text is required; the first name is optional.
import { t, getLang, onLangChange } from "./i18n.js";
import { h, icon, clear, combobox } from "./ui.js";
import { occupationPicker } from "./occupations.js";
import { loadNotice, noticeList } from "./consent.js";
import { quizGroups } from "./workprofile.js";
import { passkeysSupported, signInWithPasskey } from "./passkeys.js";

const LIKES = [
  { dim: "realistic", symbol: "🔧" },
  { dim: "investigative", symbol: "🔍" },
  { dim: "artistic", symbol: "🎨" },
  { dim: "social", symbol: "🤝" },
  { dim: "enterprising", symbol: "💬" },
  { dim: "conventional", symbol: "📋" },
];
const RADII = [
  { m: 1000, symbol: "🚶" },
  { m: 3000, symbol: "🚲" },
  { m: 5000, symbol: "🛴" },
  { m: 10000, symbol: "🚌" },
];
const HOURS = [
  { max: 10, key: "ob.hours.few", symbol: "🕐" },
  { max: 25, key: "ob.hours.part", symbol: "🕓" },
  { max: null, key: "ob.hours.full", symbol: "🕗" },
];
const STEPS = ["welcome", "privacy", "age", "occupation", "skills", "quiz", "likes", "where"];

export class Onboarding {
  /**
   * @param {HTMLElement} root
   * @param {import("./api.js").Api} api
   * @param {{onDone: (token: string) => void, useKey: (key: string) => Promise<boolean>}} hooks
   */
  constructor(root, api, hooks) {
    this.root = root;
    this.api = api;
    this.hooks = hooks;
    this.step = 0;
    this.draft = {
      birth_date: "",
      finished_school: null, // asked under 18: the youth rules depend on it
      display_name: "",
      occupation: null,
      skills: new Map(), // uri -> label
      offered: [], // [{uri, label}]
      work_profile: {},
      likes: new Set(),
      radius_m: 3000,
      hours_max: null,
      notice: null, // the privacy notice shown: {version, points}
      consented: false,
      parent: { name: "", phone: "", email: "" },
    };
    this.error = "";
    onLangChange(() => this.render());
  }

  start() {
    this.step = 0;
    this.render();
  }

  go(step) {
    this.step = Math.max(0, Math.min(STEPS.length - 1, step));
    this.error = "";
    this.render();
    const heading = this.root.querySelector("h2");
    if (heading) {
      heading.tabIndex = -1;
      heading.focus();
    }
  }

  render() {
    clear(this.root);
    const name = STEPS[this.step];
    if (this.step > 0) {
      this.root.append(
        h("ol", { class: "steps", "aria-hidden": "true" },
          STEPS.slice(1).map((_, i) => h("li", { class: i < this.step ? "done" : "" }))),
      );
    }
    this.root.append(this[`_${name}`]());
    if (this.error) {
      this.root.append(h("p", { class: "error-text", role: "alert" }, this.error));
    }
  }

  _nav({ next = () => this.go(this.step + 1), nextLabel = t("next"), skip = false, id = "" } = {}) {
    return h("div", { class: "row end", style: "margin-top:1rem" },
      h("button", { type: "button", class: "btn", onclick: () => this.go(this.step - 1) },
        icon("←"), t("back")),
      skip ? h("button", { type: "button", class: "btn", onclick: () => this.go(this.step + 1) }, t("skip.step")) : null,
      h("button", { type: "button", class: "btn primary", onclick: next, id: id || null }, nextLabel, icon("→")),
    );
  }

  _welcome() {
    const keyInput = h("input", { type: "password", id: "ob-key", autocomplete: "off" });
    const keyError = h("p", { class: "error-text", role: "alert", hidden: true });
    return h("section", { class: "hero stack", "aria-labelledby": "ob-h" },
      h("span", { class: "big", "aria-hidden": "true" }, "📍💼"),
      h("h2", { id: "ob-h" }, t("ob.welcome.title")),
      h("p", {}, t("ob.welcome.text")),
      h("button", { type: "button", class: "btn primary block", id: "ob-start", onclick: () => this.go(1) },
        t("ob.start"), icon("→")),
      passkeysSupported() ? h("button", {
        type: "button", class: "btn block", id: "ob-passkey",
        onclick: async () => {
          try {
            if (await this.hooks.useKey(await signInWithPasskey(this.api))) return;
          } catch {
            /* cancelled, or no passkey here: say so below */
          }
          keyError.textContent = t("pk.signin.bad");
          keyError.hidden = false;
        },
      }, icon("🔑"), t("pk.signin")) : null,
      h("details", { style: "text-align:left" },
        h("summary", {}, t("ob.have.key")),
        h("div", { class: "field", style: "margin-top:.5rem" },
          h("label", { for: "ob-key" }, t("ob.key.label")), keyInput),
        keyError,
        h("button", {
          type: "button", class: "btn",
          onclick: async () => {
            const ok = await this.hooks.useKey(keyInput.value.trim());
            if (!ok) {
              keyError.textContent = t("ob.key.bad");
              keyError.hidden = false;
            }
          },
        }, t("ob.key.use")),
      ),
    );
  }

  _privacy() {
    const box = h("input", {
      type: "checkbox", id: "ob-consent", checked: this.draft.consented,
      onchange: (e) => (this.draft.consented = e.target.checked),
    });
    const body = h("div", { class: "stack" }, h("p", { class: "hint" }, t("consent.loading")));
    const show = (notice) => {
      clear(body);
      body.append(noticeList(notice), h("p", { class: "hint" }, t("consent.version", { v: notice.version })));
    };
    // The notice in the language shown now (the language button re-renders the step).
    if (this.draft.notice && this.draft.notice.lang === getLang()) show(this.draft.notice);
    else {
      loadNotice(this.api).then((n) => {
        this.draft.notice = n;
        show(n);
      }).catch(() => {
        clear(body);
        body.append(h("p", { class: "error-text", role: "alert" }, t("consent.failed")));
      });
    }
    const next = () => {
      if (!this.draft.notice) return this._fail(t("consent.failed"));
      if (!this.draft.consented) return this._fail(t("consent.missing"));
      this.go(this.step + 1);
    };
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("🔒"), " ", t("consent.title")),
      h("p", {}, t("consent.intro")),
      body,
      h("label", { class: "chip", for: "ob-consent" }, box, " ", t("consent.yes")),
      this._nav({ next, id: "ob-next-privacy" }),
    );
  }

  // Under 15, or under 18 and still in school: the employer must tell the parents.
  _parentsInformed() {
    const d = this.draft.birth_date;
    if (!d) return false;
    const age = ageOn(d, new Date());
    return age < 15 || (age < 18 && this.draft.finished_school === false);
  }

  _age() {
    const today = new Date();
    const max = new Date(today.getFullYear() - 13, today.getMonth(), today.getDate());
    const min = new Date(today.getFullYear() - 30, today.getMonth(), today.getDate() + 1);
    const birth = h("input", {
      type: "date", id: "ob-birth", required: true, value: this.draft.birth_date,
      min: iso(min), max: iso(max), "aria-describedby": "ob-age-hint",
      oninput: (e) => (this.draft.birth_date = e.target.value),
    });
    const name = h("input", {
      type: "text", id: "ob-name", autocomplete: "given-name", maxlength: 100, value: this.draft.display_name,
      oninput: (e) => (this.draft.display_name = e.target.value),
    });
    // Under 18 the rules on young people's work depend on 9th grade: ask it then.
    const minor = () => !!this.draft.birth_date && ageOn(this.draft.birth_date, new Date()) < 18;
    const answer = (value, key) => h("label", { class: "chip" },
      h("input", {
        type: "radio", name: "ob-school", value: String(value), checked: this.draft.finished_school === value,
        onchange: () => (this.draft.finished_school = value),
      }), " ", t(key));
    const school = h("fieldset", { class: "field", id: "ob-school", hidden: !minor() },
      h("legend", {}, t("ob.school.q")),
      h("p", { class: "hint" }, t("ob.school.hint")),
      h("div", { class: "chips" }, answer(true, "ob.school.yes"), answer(false, "ob.school.no")),
    );
    const p = this.draft.parent;
    const parentField = (key, type, autocomplete) => h("div", { class: "field" },
      h("label", { for: `ob-parent-${key}` }, t(`parent.${key}`)),
      h("input", { type, id: `ob-parent-${key}`, autocomplete, maxlength: key === "email" ? 254 : 100,
        value: p[key], oninput: (e) => (p[key] = e.target.value) }));
    const parents = h("div", { class: "stack", id: "ob-parents", hidden: !this._parentsInformed() },
      h("p", { class: "parent-notice", role: "note" }, icon("👪"), " ", t("parent.notice")),
      h("details", { open: !!p.name },
        h("summary", {}, t("parent.add")),
        parentField("name", "text", "off"), parentField("phone", "tel", "off"),
        parentField("email", "email", "off")),
    );
    const update = () => {
      school.hidden = !minor();
      parents.hidden = !this._parentsInformed();
    };
    birth.addEventListener("input", update);
    school.addEventListener("change", update);
    const next = () => {
      const d = this.draft.birth_date;
      if (!d) return this._fail(t("ob.age.missing"));
      const age = ageOn(d, new Date());
      if (age < 13 || age > 29) return this._fail(t("ob.age.bad"));
      if (age < 18 && this.draft.finished_school === null) return this._fail(t("ob.school.missing"));
      if (this._parentsInformed() && p.name.trim() && !p.phone.trim() && !p.email.trim()) {
        return this._fail(t("parent.missing"));
      }
      this.go(this.step + 1);
    };
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("🎂"), " ", t("ob.age.title")),
      h("p", { class: "hint", id: "ob-age-hint" }, t("ob.age.hint")),
      h("div", { class: "field" }, h("label", { for: "ob-birth" }, t("ob.birth")), birth),
      school,
      parents,
      h("div", { class: "field" }, h("label", { for: "ob-name" }, t("ob.name")), name),
      this._nav({ next, id: "ob-next" }),
    );
  }

  _occupation() {
    const chosen = h("p", { class: "banner", role: "status", hidden: !this.draft.occupation, id: "ob-occ-chosen" },
      this.draft.occupation ? t("ob.occ.chosen", { label: this.draft.occupation.label }) : "");
    // The tiles and the search (js/occupations.js): the settings use them too.
    const picker = occupationPicker(this.api, {
      inputId: "ob-occ",
      onPick: async (item) => {
        this.draft.occupation = { uri: item.value, label: item.label };
        picker.input.value = item.label;
        chosen.textContent = t("ob.occ.chosen", { label: item.label });
        chosen.hidden = false;
        await this._loadSkills(item.value);
        this.go(this.step + 1);
      },
    });
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("💼"), " ", t("ob.occ.title")),
      h("p", { class: "hint" }, t("ob.occ.hint")),
      picker.root,
      chosen,
      this._nav({ next: () => (this.draft.occupation ? this.go(this.step + 1) : this.go(this.step + 2)), skip: false }),
    );
  }

  async _loadSkills(uri) {
    try {
      const res = await this.api.get("/v1/occupations/skills", { uri, lang: getLang() });
      const seen = new Set();
      this.draft.offered = [...res.essential.slice(0, 8), ...res.optional.slice(0, 6)].filter((s) => {
        if (seen.has(s.uri)) return false;
        seen.add(s.uri);
        return true;
      });
    } catch {
      this.draft.offered = [];
    }
  }

  _skills() {
    const list = h("div", { class: "chips", role: "group", "aria-labelledby": "ob-h", id: "ob-skills" });
    const addChip = (s) => {
      const id = `sk-${list.children.length}`;
      const box = h("input", {
        type: "checkbox", id, checked: this.draft.skills.has(s.uri),
        onchange: (e) => (e.target.checked ? this.draft.skills.set(s.uri, s.label) : this.draft.skills.delete(s.uri)),
      });
      list.append(h("label", { class: "chip", for: id }, box, s.label));
    };
    const shown = new Set();
    for (const s of [...this.draft.offered, ...[...this.draft.skills].map(([uri, label]) => ({ uri, label }))]) {
      if (shown.has(s.uri)) continue;
      shown.add(s.uri);
      addChip(s);
    }
    const more = h("input", { type: "search", id: "ob-skill-search" });
    const section = h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("✅"), " ", t("ob.skills.title")),
      h("p", { class: "hint" }, t("ob.skills.hint")),
      list,
      h("div", { class: "field combo" }, h("label", { for: "ob-skill-search" }, t("ob.skills.more")), more),
      this._nav({ skip: true }),
    );
    combobox(more, {
      search: async (q) => {
        const res = await this.api.get("/v1/skills", { q, lang: getLang(), limit: 8 });
        return res.items.map((i) => ({ label: i.label, value: i.uri }));
      },
      emptyText: t("ob.skills.none"),
      onPick: (item) => {
        if (!shown.has(item.value)) {
          shown.add(item.value);
          this.draft.skills.set(item.value, item.label);
          addChip({ uri: item.value, label: item.label });
        }
        more.value = "";
      },
    });
    return section;
  }

  _quiz() {
    const groups = quizGroups(this.draft.work_profile);
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("🧩"), " ", t("ob.quiz.title")),
      h("p", { class: "hint" }, t("ob.quiz.hint")),
      h("div", { class: "quiz", id: "ob-quiz" }, groups),
      this._nav({ skip: true }),
    );
  }

  _likes() {
    const grid = h("div", { class: "grid2", role: "group", "aria-labelledby": "ob-h" },
      LIKES.map((l) =>
        h("button", {
          type: "button", class: "pick", "aria-pressed": String(this.draft.likes.has(l.dim)),
          dataset: { dim: l.dim },
          onclick: (e) => {
            const on = !this.draft.likes.has(l.dim);
            if (on) this.draft.likes.add(l.dim);
            else this.draft.likes.delete(l.dim);
            e.currentTarget.setAttribute("aria-pressed", String(on));
          },
        }, icon(l.symbol), t(`like.${l.dim}`)),
      ));
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("❤️"), " ", t("ob.like.title")),
      h("p", { class: "hint" }, t("ob.like.hint")),
      grid,
      this._nav({ skip: true }),
    );
  }

  _where() {
    const radius = h("div", { class: "grid2", role: "group", "aria-label": t("ob.radius") },
      RADII.map((r) =>
        h("button", {
          type: "button", class: "pick", "aria-pressed": String(this.draft.radius_m === r.m),
          dataset: { radius: String(r.m) },
          onclick: () => {
            this.draft.radius_m = r.m;
            for (const b of radius.querySelectorAll("button")) {
              b.setAttribute("aria-pressed", String(Number(b.dataset.radius) === r.m));
            }
          },
        }, icon(r.symbol), t("km", { n: r.m / 1000 })),
      ));
    const hours = h("div", { class: "grid3", role: "group", "aria-label": t("ob.hours") },
      HOURS.map((o) =>
        h("button", {
          type: "button", class: "pick", "aria-pressed": String(this.draft.hours_max === o.max),
          dataset: { hours: String(o.max) },
          onclick: () => {
            this.draft.hours_max = o.max;
            for (const b of hours.querySelectorAll("button")) {
              b.setAttribute("aria-pressed", String(b.dataset.hours === String(o.max)));
            }
          },
        }, icon(o.symbol), t(o.key)),
      ));
    return h("section", { class: "stack", "aria-labelledby": "ob-h" },
      h("h2", { id: "ob-h" }, icon("📍"), " ", t("ob.where.title")),
      h("p", { class: "hint" }, t("ob.where.hint")),
      h("h3", {}, t("ob.radius")), radius,
      h("h3", {}, t("ob.hours")), hours,
      this._nav({ next: () => this.finish(), nextLabel: t("ob.finish"), id: "ob-finish" }),
    );
  }

  _fail(message) {
    this.error = message;
    this.render();
  }

  body() {
    const d = this.draft;
    const wp = {};
    for (const [k, v] of Object.entries(d.work_profile)) if (v != null) wp[k] = v;
    if (d.likes.size) for (const l of LIKES) wp[l.dim] = d.likes.has(l.dim) ? 0.85 : 0.35;
    const prefs = { radius_m: d.radius_m };
    if (d.hours_max) prefs.hours_max = d.hours_max;
    const body = {
      birth_date: d.birth_date,
      language: getLang(),
      skills: [...d.skills.keys()],
      preferences: prefs,
    };
    if (d.display_name.trim()) body.display_name = d.display_name.trim();
    if (ageOn(d.birth_date, new Date()) < 18) body.finished_compulsory_school = d.finished_school;
    if (Object.keys(wp).length) body.work_profile = wp;
    // Explicit consent to the notice that was shown (the server checks the version).
    body.consent = { notice_version: d.notice?.version ?? "", accepted: d.consented };
    const p = d.parent;
    if (this._parentsInformed() && p.name.trim() && (p.phone.trim() || p.email.trim())) {
      body.parent_contact = { name: p.name.trim() };
      if (p.phone.trim()) body.parent_contact.phone = p.phone.trim();
      if (p.email.trim()) body.parent_contact.email = p.email.trim();
    }
    // The wished-for occupation counts in every match (the score's occupation part).
    if (d.occupation) body.interests = [d.occupation.uri];
    return body;
  }

  async finish() {
    const button = this.root.querySelector("#ob-finish");
    if (button) {
      button.disabled = true;
      button.textContent = t("ob.saving");
    }
    try {
      const res = await this.api.post("/v1/jobseekers", this.body());
      this.hooks.onDone(res.token, this.draft.occupation);
    } catch (err) {
      if (err.code === "stale_notice") {
        // The notice changed while signing up: show the new one and ask again.
        Object.assign(this.draft, { notice: null, consented: false });
        this.go(STEPS.indexOf("privacy"));
        return;
      }
      this._fail(err.status === 0 ? t("error.network") : `${t("error.generic")} (${err.message})`);
    }
  }
}

function iso(d) {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

function ageOn(birth, today) {
  const [y, m, d] = birth.split("-").map(Number);
  let age = today.getFullYear() - y;
  if (today.getMonth() + 1 < m || (today.getMonth() + 1 === m && today.getDate() < d)) age -= 1;
  return age;
}

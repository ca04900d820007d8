/**
 * Every tag of the image's repository that a plan writes: each variant's tags, the staging tag the build pushes to,
 * and the version's claim tag the release check writes (scripts.ts). Read from the plan itself, so a check that must
 * keep off these tags (the cache image: checks-images.ts) follows any tag the planner or the release protocol adds.
 * A plan whose version comes at submit time (a cluster) holds late values: a tag is written when some version of a
 * shape that variant serves makes it.
 */
import { createHash } from "node:crypto";
import { parseVersion, VERSION_ERE, type Version } from "../version.js";
import { STAGING_TAG } from "./constants.js";
import { literal } from "./text.js";
import type { BuildPlan, Late, PlanText, Variant } from "./types.js";

/** A tag the plan writes: a literal one, or any tag a submitted version makes. */
export interface PublishedTag {
  readonly matches: (tag: string) => boolean;
  /** Why packline writes it, e.g. "the version tag 1.2.3, which this build publishes". */
  readonly why: (tag: string) => string;
}

/**
 * The claim tag of a version, as the check and release scripts name it (`claim_ref` in scripts.ts; a test runs that
 * shell against this): a tag holds at most 128 characters, so a version over CLAIM_VERSION_MAX is named by a digest.
 */
export const CLAIM_TAG_PREFIX = "packline-claim-";
export const CLAIM_VERSION_MAX = 100;
export function claimTag(version: string): string {
  if (version.length <= CLAIM_VERSION_MAX) return `${CLAIM_TAG_PREFIX}${version}`;
  return `${CLAIM_TAG_PREFIX}${createHash("sha256").update(version).digest("hex").slice(0, 32)}`;
}

export function publishedTags(plan: BuildPlan): PublishedTag[] {
  const tags: PublishedTag[] = [
    { matches: (tag) => tag === STAGING_TAG, why: () => `the tag ${STAGING_TAG}, which the build pushes to before the release` },
  ];
  const version = plan.version;
  if (version.kind === "known") {
    const claim = claimTag(version.version);
    tags.push({ matches: (tag) => tag === claim, why: () => `the tag ${claim}, which the release check writes to claim the version` });
    for (const variant of plan.variants) {
      variant.tags.forEach((text, i) => {
        const value = literal(text);
        if (value === undefined) return;
        tags.push({ matches: (tag) => tag === value, why: () => whyTag(value, i, "this build publishes") });
      });
    }
    return tags;
  }
  tags.push({
    matches: (tag) => {
      if (!tag.startsWith(CLAIM_TAG_PREFIX)) return false;
      const rest = tag.slice(CLAIM_TAG_PREFIX.length);
      return /^[0-9a-f]{32}$/.test(rest) || (rest.length <= CLAIM_VERSION_MAX && new RegExp(VERSION_ERE).test(rest));
    },
    why: () => `a claim tag, which the release check writes to claim the version it is submitted with`,
  });
  for (const variant of plan.variants) {
    variant.tags.forEach((text, i) => {
      tags.push({
        matches: (tag) => madeBySomeVersion(text, variant, tag),
        why: (tag) =>
          i === 0
            ? `the version tag ${tag}, which the workflow publishes when it is submitted with that version`
            : `${whyTag(tag, i, "")} when the workflow is submitted with a version that makes it`,
      });
    });
  }
  return tags;
}

/** The first tag of a variant is the version's (planner.ts, tagVariants); `latest` is --latest's; the rest float. */
function whyTag(tag: string, index: number, who: string): string {
  if (index === 0) return `the version tag ${tag}, which ${who}`;
  return `the tag ${tag}, which ${tag === "latest" ? "--latest" : "--floating-tags"} publishes`;
}

const PART: Partial<Record<Late, string>> = {
  version: "(?<version>.+)",
  major: "(?<major>0|[1-9][0-9]{0,14})",
  minor: "(?<minor>0|[1-9][0-9]{0,14})",
};

/** Whether some version of a shape `variant` serves makes `text` into `tag`. */
function madeBySomeVersion(text: PlanText, variant: Variant, tag: string): boolean {
  const fixed = literal(text);
  if (fixed !== undefined) return fixed === tag; // the same for every version of the shapes it serves
  let pattern = "";
  for (const part of text) {
    if (typeof part === "string") pattern += part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    else {
      if (PART[part.late] === undefined) return false; // a late value no normalized version decides: no image tag
      pattern += pattern.includes(`(?<${part.late}>`) ? `\\k<${part.late}>` : PART[part.late];
    }
  }
  const match = new RegExp(`^${pattern}$`).exec(tag);
  if (!match) return false;
  const { version: full, major, minor } = match.groups ?? {};
  const candidate = full ?? `${major ?? 1}.${minor ?? 0}.0`;
  let parsed: Version;
  try {
    parsed = parseVersion(candidate);
  } catch {
    return false;
  }
  if (full !== undefined && parsed.version !== full) return false; // v1.2.3 is a git tag, never an image tag
  if (major !== undefined && parsed.major !== major) return false;
  if (minor !== undefined && parsed.minor !== minor) return false;
  return variant.shapes.includes(parsed.shape);
}

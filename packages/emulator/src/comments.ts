import type { Clock } from 'vf-login-bridge';

/** A comment as the embed shows it: under its author's name as the platform knows it now. */
export interface EmbedComment {
  id: number;
  userId: number;
  name: string;
  text: string;
  createdAt: number;
}

/** What is kept: the author's id, never a copy of the name, which the author may change. */
type StoredComment = Omit<EmbedComment, 'name'>;

/** Bounds that keep a long-running emulator's memory flat; the oldest entries make room. */
const MAX_COMMENTS_PER_PAGE = 100;
const MAX_PAGES = 1000;

/**
 * The embed's comments, kept in memory per page: enough to make the widget feel real. Like the
 * platform, it shows each comment under its author's current name (`nameOf`), so a reader who
 * changes name on the publisher's site sees old comments follow.
 */
export function createCommentBoard(clock: Clock, nameOf: (userId: number) => string | null) {
  const pages = new Map<string, StoredComment[]>();
  let nextId = 1;
  const present = (comment: StoredComment): EmbedComment => ({ ...comment, name: nameOf(comment.userId) ?? 'Former reader' });

  return {
    list(page: string): EmbedComment[] {
      return (pages.get(page) ?? []).map(present);
    },
    add(page: string, author: { userId: number }, text: string): EmbedComment {
      let comments = pages.get(page);
      if (!comments) {
        if (pages.size >= MAX_PAGES) pages.delete(pages.keys().next().value!);
        comments = [];
        pages.set(page, comments);
      }
      const comment: StoredComment = { id: nextId, userId: author.userId, text, createdAt: clock.now() };
      nextId += 1;
      comments.push(comment);
      if (comments.length > MAX_COMMENTS_PER_PAGE) comments.shift();
      return present(comment);
    },
  };
}

export type CommentBoard = ReturnType<typeof createCommentBoard>;
